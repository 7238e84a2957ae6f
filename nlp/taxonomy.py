"""The theme taxonomy: load, validate and write the TOML file that defines the themes.

The web app keeps edited versions as TOML text in its database and hands them back, so everything
here works on text (`Taxonomy.from_toml`) as well as on files (`Taxonomy.load`).

    python -m nlp.taxonomy check [FILE]     # validate a taxonomy file (default: nlp/themes.toml)
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PATH = Path(__file__).with_name("themes.toml")

_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_THEME_KEYS = {
    "id", "label_nl", "label_en", "definition", "terms", "phrases", "examples",
    "counter_examples", "negation_factor",
}
_NEGATION_KEYS = {"cues", "window", "after", "after_window", "clause_breaks", "factor"}


class TaxonomyError(ValueError):
    """A taxonomy that cannot be used; the message names the theme and the field."""


@dataclass(frozen=True)
class Negation:
    """How negation weakens a term: see the [negation] table in themes.toml."""

    cues: tuple[str, ...] = ("geen", "niet", "zonder", "nooit", "niets", "niemand", "nergens")
    window: int = 4
    after: tuple[str, ...] = ("geen sprake", "niet aan de orde")
    after_window: int = 6
    clause_breaks: tuple[str, ...] = (",", ";", ":", "maar", "want", "omdat", "terwijl")
    factor: float = 0.15


@dataclass(frozen=True)
class Theme:
    id: str
    label_nl: str
    label_en: str
    definition: str
    terms: dict[str, float] = field(default_factory=dict)
    phrases: dict[str, float] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()
    negation_factor: float | None = None


@dataclass(frozen=True)
class Taxonomy:
    version: str
    themes: tuple[Theme, ...]
    negation: Negation = Negation()

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def theme(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(f"no theme {theme_id!r} in taxonomy version {self.version}")

    @classmethod
    def load(cls, path: str | Path | None = None) -> Taxonomy:
        path = Path(path) if path is not None else DEFAULT_PATH
        return cls.from_toml(path.read_text(encoding="utf-8"), source=str(path))

    @classmethod
    def from_toml(cls, text: str, source: str = "taxonomy") -> Taxonomy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise TaxonomyError(f"{source}: not valid TOML: {e}") from None
        return cls.from_dict(data, source)

    @classmethod
    def from_dict(cls, data: dict, source: str = "taxonomy") -> Taxonomy:
        unknown = set(data) - {"version", "negation", "themes"}
        if unknown:
            raise TaxonomyError(f"{source}: unknown top-level key(s) {sorted(unknown)}")
        version = data.get("version")
        if not isinstance(version, str) or not version.strip():
            raise TaxonomyError(f"{source}: 'version' must be a non-empty string")
        raw_themes = data.get("themes")
        if not isinstance(raw_themes, list) or not raw_themes:
            raise TaxonomyError(f"{source}: needs at least one [[themes]] table")
        themes = [_parse_theme(raw, i, source) for i, raw in enumerate(raw_themes)]
        seen: set[str] = set()
        for t in themes:
            if t.id in seen:
                raise TaxonomyError(f"{source}: theme '{t.id}' is defined twice")
            seen.add(t.id)
        negation = _parse_negation(data.get("negation", {}), source)
        return cls(version=version.strip(), themes=tuple(themes), negation=negation)

    def to_toml(self) -> str:
        """TOML text that from_toml() reads back to an equal Taxonomy (comments are not kept)."""
        n = self.negation
        out = [f"version = {_str(self.version)}", "", "[negation]"]
        out += [
            f"cues = {_list(n.cues)}", f"window = {n.window}", f"after = {_list(n.after)}",
            f"after_window = {n.after_window}", f"clause_breaks = {_list(n.clause_breaks)}",
            f"factor = {n.factor!r}",
        ]
        for t in self.themes:
            out += ["", "[[themes]]", f"id = {_str(t.id)}", f"label_nl = {_str(t.label_nl)}",
                    f"label_en = {_str(t.label_en)}", f"definition = {_str(t.definition)}"]
            if t.negation_factor is not None:
                out.append(f"negation_factor = {t.negation_factor!r}")
            out.append(f"examples = {_list(t.examples)}")
            out.append(f"counter_examples = {_list(t.counter_examples)}")
            out.append("[themes.terms]")
            out += [f"{_key(k)} = {float(v)!r}" for k, v in t.terms.items()]
            out.append("[themes.phrases]")
            out += [f"{_key(k)} = {float(v)!r}" for k, v in t.phrases.items()]
        return "\n".join(out) + "\n"


# --- parsing ---------------------------------------------------------------------------------


def _parse_theme(raw: object, index: int, source: str) -> Theme:
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{source}: theme #{index + 1} is not a table")
    theme_id = raw.get("id")
    if not isinstance(theme_id, str) or not _ID.fullmatch(theme_id):
        raise TaxonomyError(
            f"{source}: theme #{index + 1}, field 'id': must be lower-case letters, digits and "
            f"hyphens (like 'informeel-netwerk'), got {theme_id!r}"
        )

    def fail(fieldname: str, problem: str) -> TaxonomyError:
        return TaxonomyError(f"{source}: theme '{theme_id}', field '{fieldname}': {problem}")

    unknown = set(raw) - _THEME_KEYS
    if unknown:
        raise fail(sorted(unknown)[0], f"unknown field (allowed: {', '.join(sorted(_THEME_KEYS))})")
    texts = {}
    for name in ("label_nl", "label_en", "definition"):
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise fail(name, "must be a non-empty string")
        texts[name] = value.strip()
    terms = _weights(raw.get("terms", {}), "terms", fail, _check_term)
    phrases = _weights(raw.get("phrases", {}), "phrases", fail, _check_phrase)
    if not terms and not phrases:
        raise fail("terms", "a theme needs at least one term or phrase")
    examples = {}
    for name in ("examples", "counter_examples"):
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise fail(name, "must be a list of non-empty strings")
        examples[name] = tuple(value)
    factor = raw.get("negation_factor")
    if factor is not None and (not _is_number(factor) or not 0 <= factor <= 1):
        raise fail("negation_factor", f"must be a number from 0 to 1, got {factor!r}")
    return Theme(id=theme_id, terms=terms, phrases=phrases, negation_factor=factor,
                 **texts, **examples)


def _weights(value: object, name: str, fail, check) -> dict[str, float]:
    if not isinstance(value, dict):
        raise fail(name, "must be a table of 'words = weight'")
    out = {}
    for key, weight in value.items():
        if not _is_number(weight) or not 0 < weight <= 10:
            raise fail(f"{name}.{key}",
                       f"weight must be a number above 0 and at most 10, got {weight!r}")
        problem = check(key)
        if problem:
            raise fail(f"{name}.{key}", problem)
        out[key] = float(weight)
    return out


def _check_term(term: str) -> str | None:
    core = term.strip("*")
    if not core.strip() or term != term.strip():
        return "must contain a word"
    if "*" in core or "|" in term:
        return "'*' may only start or end a term, and '|' belongs in phrases"
    if term.startswith("*") and term.endswith("*"):
        return "use '*' at one end only"
    if "*" in term and " " in term:
        return "'*' works on single words only"
    return None


def _check_phrase(phrase: str) -> str | None:
    words = phrase.split()
    if not words:
        return "must contain a word"
    if all(w in ("*", "**") for w in words):
        return "needs at least one real word besides '*'"
    if words[0] in ("*", "**") or words[-1] in ("*", "**"):
        return "may not start or end with '*' (it would only widen the match)"
    for w in words:
        if w not in ("*", "**") and ("*" in w or any(not alt for alt in w.split("|"))):
            return f"bad word {w!r}: use 'a|b' for alternatives and '*' only as a separate word"
    return None


def _parse_negation(raw: object, source: str) -> Negation:
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{source}: [negation] must be a table")
    unknown = set(raw) - _NEGATION_KEYS
    if unknown:
        raise TaxonomyError(f"{source}: [negation] has unknown key(s) {sorted(unknown)}")
    default = Negation()
    values = {}
    for name in ("cues", "after", "clause_breaks"):
        value = raw.get(name, list(getattr(default, name)))
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise TaxonomyError(f"{source}: [negation] '{name}' must be a list of strings")
        values[name] = tuple(value)
    for name in ("window", "after_window"):
        value = raw.get(name, getattr(default, name))
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 20:
            raise TaxonomyError(f"{source}: [negation] '{name}' must be a whole number 0-20")
        values[name] = value
    factor = raw.get("factor", default.factor)
    if not _is_number(factor) or not 0 <= factor <= 1:
        raise TaxonomyError(f"{source}: [negation] 'factor' must be a number from 0 to 1")
    return Negation(factor=float(factor), **values)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- writing ---------------------------------------------------------------------------------


def _str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c >= " " or c == "\t" else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _str(key)


def _list(values) -> str:
    return "[" + ", ".join(_str(v) for v in values) + "]"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "check":
        print("usage: python -m nlp.taxonomy check [FILE]", file=sys.stderr)
        return 2
    try:
        taxonomy = Taxonomy.load(args[1] if len(args) > 1 else None)
    except (TaxonomyError, OSError) as e:
        print(e, file=sys.stderr)
        return 2
    print(f"taxonomy {taxonomy.version}: {len(taxonomy.themes)} themes: {', '.join(taxonomy.ids)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
