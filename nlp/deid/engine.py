"""Loading deduce once per process, and running the parts of it Vertelpunt uses.

deduce (https://github.com/vmenger/deduce) brings the Dutch name, street and healthcare
institution lists. Facts about it that shape this module:

* On first use it builds a ~77 MB cache of lookup structures (about a minute) inside its own
  package folder, and crashes if that folder is not writable. We keep the cache in a folder
  of our own (``VERTELPUNT_DEDUCE_CACHE``, default ``~/.cache/vertelpunt/deduce-<version>``),
  build it in a temporary folder next to it, and move it into place atomically under a file
  lock, so that parallel processes never read half a file.
* Loading the cache takes seconds and about 1 GB of memory: one model per process, loaded
  lazily behind a lock.
* Importing it calls ``logging.basicConfig(level=DEBUG)`` and sets the warnings filter to
  "default"; both are restored to what they were before the import.
* Its dates, ages, phone numbers, identifiers, e-mail, URLs and post-processing are removed:
  Vertelpunt's own detectors do those (see patterns.py), with Dutch-specific validation.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_ENV = "VERTELPUNT_DEDUCE_CACHE"
_CACHE_FILE = Path("cache") / "lookup_structs.pickle"  # where deduce looks inside cache_path

# Processors of deduce's pipeline that Vertelpunt replaces with its own detectors.
_UNUSED_GROUPS = (
    "dates", "ages", "identifiers", "phone_numbers", "email_addresses", "urls", "post_processing",
)  # fmt: skip
_UNUSED_IN_GROUP = {
    # Growing names over neighbouring words is done by names._grow, which knows our keep-terms;
    # the converter's overlap resolution by spans.resolve.
    "names": ("patient_name", "name_context", "person_annotation_converter"),
    # Cities stay visible; postcodes are ours; bare streets we judge ourselves; street names
    # by suffix are matched by places.ADDRESS_RE.
    "locations": (
        "placename", "postal_code", "postbus", "remove_street_tags", "clean_street_tags",
        "street_pattern",
    ),
}  # fmt: skip

_lock = threading.Lock()
_engine: Engine | None = None


@dataclass(frozen=True, slots=True)
class DeduceFindings:
    persons: list[tuple[int, int]]
    streets: list[tuple[int, int, bool]]  # (start, end, has a house number)
    institutions: list[tuple[int, int]]
    not_names: list[tuple[int, int]]  # eponymous diseases: "Parkinson", "Down"


class Engine:
    """A loaded deduce model and the lookup lists the name rules consult."""

    def __init__(self, model: Any) -> None:
        self.model = model
        structs = model.lookup_structs
        self._first_names = structs["first_name"]
        self._surnames = structs["surname"]
        self._places = structs["placename"]
        self._streets = structs["street"]
        self._interfix_surnames = structs["interfix_surname"]  # "Jong" of "de Jong"
        self._common = structs["whitelist"]  # frequent words, stop words, medical terms

    def run(self, text: str) -> DeduceFindings:
        doc = self.model.deidentify(text)
        persons, streets, institutions, not_names = [], [], [], []
        for ann in doc.annotations:
            tag, span = ann.tag, (ann.start_char, ann.end_char)
            if tag.startswith("straat"):
                streets.append((*span, "huisnummer" in tag))
            elif tag in ("ziekenhuis", "zorginstelling"):
                institutions.append(span)
            elif tag == "pseudo_name":
                not_names.append(span)
            else:  # voornaam, achternaam, initiaal+naam, prefix+naam, ...
                persons.append(span)
        return DeduceFindings(persons, streets, institutions, not_names)

    def is_first_name(self, word: str) -> bool:
        return [word] in self._first_names

    def is_surname(self, word: str) -> bool:
        return [word] in self._surnames

    def is_interfix_surname(self, word: str) -> bool:
        """A surname that follows a particle: "Jong" of "de Jong"."""
        return word in self._interfix_surnames

    def is_common(self, word: str) -> bool:
        return word in self._common

    def is_street(self, word: str) -> bool:
        return [word] in self._streets

    def is_place(self, name: str) -> bool:
        return name.split() in self._places

    def place_length(self, words: list[str], index: int) -> int:
        """How many words from `index` on name a Dutch place (0 if none)."""
        match = self._places.longest_matching_prefix(words, start_i=index)
        return len(match) if match else 0


def get_engine() -> Engine:
    """The process's engine, loading it on first use (thread-safe)."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                enabled = gc.isenabled()
                gc.disable()  # unpickling millions of objects would trigger full collections
                try:
                    engine = Engine(_load_model())
                    _exempt_from_garbage_collection(engine)
                finally:
                    if enabled:
                        gc.enable()
                _engine = engine
    return _engine


def _exempt_from_garbage_collection(engine: Engine) -> None:
    """Take deduce's millions of lookup objects out of the cyclic garbage collector's sight.

    Without this, every full collection walks ~1 GB of tries (long pauses under load), and
    interpreter exit spends ~9 s freeing them one by one. gc.freeze() moves every object that
    exists now into a generation the collector never scans; the self-referencing list keeps
    the engine alive until the process ends, when the OS reclaims the memory at once.
    """
    keep_alive: list[Any] = [engine]
    keep_alive.append(keep_alive)
    gc.freeze()


def is_loaded() -> bool:
    return _engine is not None


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vertelpunt" / f"deduce-{_deduce_version()}"


def _deduce_version() -> str:
    from importlib.metadata import version

    return version("deduce")


@contextlib.contextmanager
def _preserved_global_state():
    """Undo what importing deduce does to the process: root logging and warning filters."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    filters = list(warnings.filters)
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
        warnings.filters[:] = filters


def _load_model() -> Any:
    started = time.perf_counter()
    with _preserved_global_state():  # deduce logs to the root logger while it loads
        import deduce

        model = _load_or_build(deduce, cache_dir())
    log.info("deduce loaded in %.1f s", time.perf_counter() - started)
    for group in _UNUSED_GROUPS:
        model.processors.remove_processor(group)
    for group, names in _UNUSED_IN_GROUP.items():
        for name in names:
            model.processors[group].remove_processor(name)
    return model


def _load_or_build(deduce: Any, directory: Path) -> Any:
    if (directory / _CACHE_FILE).is_file():
        try:
            return deduce.Deduce(cache_path=directory)
        except Exception:  # a damaged cache file: build it again below
            log.warning("deduce cache in %s is unreadable; rebuilding", directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with _file_lock(directory / "build.lock"):
            if not (directory / _CACHE_FILE).is_file():
                _build_into(deduce, directory)
        return deduce.Deduce(cache_path=directory)
    except OSError as error:
        # No writable cache folder: build in a throwaway one (slow start, but it works).
        log.warning(
            "cannot write deduce cache in %s (%s); building a temporary one", directory, error
        )
        with tempfile.TemporaryDirectory(prefix="vertelpunt-deduce-") as scratch:
            return deduce.Deduce(cache_path=Path(scratch))


def _build_into(deduce: Any, directory: Path) -> None:
    log.warning("building deduce's lookup cache in %s (about a minute, once)", directory)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=directory))
    try:
        deduce.Deduce(cache_path=scratch, build_lookup_structs=True)
        (directory / _CACHE_FILE).parent.mkdir(exist_ok=True)
        os.replace(scratch / _CACHE_FILE, directory / _CACHE_FILE)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def _file_lock(path: Path):
    """An exclusive lock between processes (a no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
