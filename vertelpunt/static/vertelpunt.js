// Small enhancements; every page works without this file.
// 1. Drafts: the story form is saved in this browser's localStorage while typing, so a reload,
//    a lost connection or an expired session never loses the text. Cleared once the story is
//    stored on the server (pages marked data-clear-draft).
// 2. A page waiting for de-identification reloads itself every few seconds.
(function () {
  "use strict";
  var PREFIX = "vertelpunt-concept-";

  function saveDraft(form, key, status) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit") return;
      if (el.type === "checkbox") {
        data[el.name] = data[el.name] || [];
        if (el.checked) data[el.name].push(el.value);
      } else {
        data[el.name] = el.value;
      }
    });
    try {
      localStorage.setItem(PREFIX + key, JSON.stringify(data));
      if (status) status.textContent = "Concept bewaard in deze browser.";
    } catch (e) { /* storage full or blocked: the form still works */ }
  }

  function restoreDraft(form, key, status) {
    var raw;
    try { raw = localStorage.getItem(PREFIX + key); } catch (e) { return; }
    if (!raw) return;
    var data = JSON.parse(raw);
    var restored = false;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in data)) return;
      if (el.type === "checkbox") {
        var checked = data[el.name].indexOf(el.value) !== -1;
        if (checked !== el.checked) { el.checked = checked; restored = true; }
      } else if (el.type !== "hidden" && el.type !== "submit" && !el.value && data[el.name]) {
        el.value = data[el.name];
        restored = true;
      }
    });
    if (restored && status) status.textContent = "Je concept is teruggezet.";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-draft]");
    if (form) {
      var key = form.getAttribute("data-draft");
      var status = document.getElementById("draft-status");
      restoreDraft(form, key, status);
      var timer;
      form.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () { saveDraft(form, key, status); }, 400);
      });
    }
    var clear = document.querySelector("[data-clear-draft]");
    if (clear) {
      try { localStorage.removeItem(PREFIX + clear.getAttribute("data-clear-draft")); } catch (e) {}
    }
    if (document.querySelector("[data-reload-while-waiting]")) {
      setTimeout(function () { window.location.reload(); }, 3000);
    }
  });
})();
