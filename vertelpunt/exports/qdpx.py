"""A REFI-QDA project (.qdpx) of the filtered stories, for ATLAS.ti, NVivo, MAXQDA, QualCoder.

A .qdpx is a zip with `project.qde` (XML in namespace urn:QDA-XML:project:1.0, REFI-QDA
Project.xsd 1.0, shipped in vertelpunt/schemas/ and checked in tests) and a `Sources/` folder:

- every story is a TextSource whose masked text is `Sources/<guid>.txt` (UTF-8), with its
  month, team, municipality and teller role as variables;
- every theme of the taxonomy is a Code, its definition the Code's Description;
- every tag is a Coding on a PlainTextSelection: the tagger's evidence spans
  (startPosition/endPosition are character offsets into the text, as Vertelpunt stores them),
  and for a theme the teller chose or a reviewer added, a selection of the whole text.
  Who coded is kept as REFI users: "verteller", "automatische analyse <model>", "onderzoeker
  (review)": roles, never persons.

GUIDs are UUID 5 of stable names, so exporting the same stories twice gives the same project
(a tool can merge a later export into an earlier one).

The XML is written fragment by fragment to a temporary file while the story texts go into the
zip, so memory stays flat however many stories are exported.
"""

from __future__ import annotations

import tempfile
import uuid
import zipfile
from collections.abc import Callable

from lxml import etree

from ..db import Database
from ..filters import StoryFilter
from .common import describe_filter, now_stamp
from .tables import story_batches

NS = "urn:QDA-XML:project:1.0"
_DECL = f' xmlns="{NS}"'.encode()
GUID_NAMESPACE = uuid.UUID("5d7b3f0e-6a43-4c55-9a57-0b1e3c8f2a61")  # Vertelpunt's, fixed
COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
VARIABLES = (
    ("maand", "Text"),
    ("team", "Text"),
    ("gemeente", "Text"),
    ("rol verteller", "Text"),
    ("vertelpunt-id", "Integer"),
)


def guid(*parts) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, ":".join(str(p) for p in parts)))


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _fragment(element) -> bytes:
    """An element serialised without repeating the default namespace declaration: it is
    written inside <Project xmlns="urn:QDA-XML:project:1.0">, which declares it once."""
    data = etree.tostring(element, encoding="utf-8")
    return data.replace(_DECL, b"", 1)


def _element(tag: str, **attrs):
    return etree.Element(_q(tag), nsmap={None: NS}, **{k: str(v) for k, v in attrs.items()})


def _sub(parent, tag: str, text: str | None = None, **attrs):
    child = etree.SubElement(parent, _q(tag), **{k: str(v) for k, v in attrs.items()})
    if text is not None:
        child.text = text
    return child


def _datetime(value: str | None) -> str:
    """SQLite's '2025-03-01T10:00:00Z' is already an xsd:dateTime; fall back to now."""
    return value if value and "T" in value else now_stamp()


async def write_qdpx(
    db: Database,
    flt: StoryFilter,
    taxonomy,
    target,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write the project to `target` (a path or a binary file object); return the number of
    stories written."""
    created = now_stamp()
    users = {
        "export": guid("user", "export"),
        "teller": guid("user", "teller"),
        "review": guid("user", "review"),
    }
    nlp_users: dict[str, str] = {}
    themes = {t.id: t for t in taxonomy.themes}
    codes = {t.id: guid("code", t.id) for t in taxonomy.themes}
    variables = {name: guid("variable", name) for name, _ in VARIABLES}
    count = 0
    with (
        tempfile.TemporaryFile() as xml,
        zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        xml.write(b"<?xml version='1.0' encoding='utf-8'?>\n")
        xml.write(
            f'<Project xmlns="{NS}" name="Vertelpunt-export {created[:10]}"'
            f' origin="Vertelpunt" creatingUserGUID="{users["export"]}"'
            f' creationDateTime="{created}">'.encode()
        )
        code_book = _element("CodeBook")
        code_list = _sub(code_book, "Codes")
        for i, theme in enumerate(taxonomy.themes):
            code = _sub(
                code_list,
                "Code",
                guid=codes[theme.id],
                name=theme.label_nl,
                isCodable="true",
                color=COLOURS[i % len(COLOURS)],
            )
            _sub(
                code,
                "Description",
                f"{theme.definition}\n\n(thema-id {theme.id}, taxonomie {taxonomy.version})",
            )
        var_block = _element("Variables")
        for name, kind in VARIABLES:
            _sub(var_block, "Variable", guid=variables[name], name=name, typeOfVariable=kind)

        xml.write(b"<Sources>")
        async for batch in story_batches(db, flt):
            for story in batch:
                for tag in story.themes:
                    if tag["theme"] not in codes:  # a theme of an older taxonomy
                        codes[tag["theme"]] = guid("code", tag["theme"])
                    if tag["model"] and tag["model"] not in nlp_users:
                        nlp_users[tag["model"]] = guid("user", "nlp", tag["model"])
                xml.write(_fragment(_text_source(story, codes, users, nlp_users, variables)))
                archive.writestr(
                    f"Sources/{guid('story', story.id)}.txt", story.text.encode("utf-8")
                )
                count += 1
            if on_progress:
                on_progress(count)
        if count == 0:
            # SourcesType needs at least one source: an empty selection has no Sources.
            xml.seek(0)
            xml.truncate()
            return await _write_empty(
                archive, taxonomy, flt, created, users, codes, code_book, var_block
            )
        xml.write(b"</Sources>")
        description = _element("Description")
        description.text = _project_description(flt, count, taxonomy)
        xml.write(_fragment(description))
        xml.write(b"</Project>\n")

        # Users and the code book come first in the schema's order, but the model versions
        # (users) and older themes (codes) are only known after reading the stories: write
        # the head now and copy the sources after it.
        head = _head(users, nlp_users, code_book, codes, themes, var_block)
        xml.seek(0)
        with archive.open("project.qde", "w", force_zip64=True) as out:
            first = xml.readline()  # the declaration
            out.write(first)
            opening = _read_until(xml, b">")  # <Project ...>
            out.write(opening)
            out.write(head)
            while chunk := xml.read(1 << 20):
                out.write(chunk)
    return count


def _read_until(stream, marker: bytes) -> bytes:
    data = b""
    while not data.endswith(marker):
        byte = stream.read(1)
        if not byte:
            break
        data += byte
    return data


def _head(users, nlp_users, code_book, codes, themes, var_block) -> bytes:
    user_block = _element("Users")
    _sub(user_block, "User", guid=users["export"], name="Vertelpunt (export)")
    _sub(user_block, "User", guid=users["teller"], name="verteller (thema bij het vertellen)")
    _sub(user_block, "User", guid=users["review"], name="onderzoeker (review)")
    for model, user_guid in sorted(nlp_users.items()):
        _sub(user_block, "User", guid=user_guid, name=f"automatische analyse {model}")
    code_list = code_book[0]
    for theme_id, code_guid in codes.items():
        if theme_id not in themes:
            code = _sub(code_list, "Code", guid=code_guid, name=theme_id, isCodable="true")
            _sub(code, "Description", f"Thema {theme_id} uit een eerdere taxonomie.")
    return _fragment(user_block) + _fragment(code_book) + _fragment(var_block)


async def _write_empty(archive, taxonomy, flt, created, users, codes, code_book, var_block):
    head = _head(users, {}, code_book, codes, {t.id: t for t in taxonomy.themes}, var_block)
    description = _element("Description")
    description.text = _project_description(flt, 0, taxonomy)
    archive.writestr(
        "project.qde",
        b"<?xml version='1.0' encoding='utf-8'?>\n"
        + f'<Project xmlns="{NS}" name="Vertelpunt-export {created[:10]}" origin="Vertelpunt"'
        f' creatingUserGUID="{users["export"]}" creationDateTime="{created}">'.encode()
        + head
        + _fragment(description)
        + b"</Project>\n",
    )
    return 0


def _project_description(flt: StoryFilter, count: int, taxonomy) -> str:
    return (
        f"{count} gede-identificeerde verhalen uit Vertelpunt. Selectie: {describe_filter(flt)}."
        f" Taxonomie {taxonomy.version}. Codes van de automatische analyse zijn voorstellen:"
        " controleer ze."
    )


def _text_source(story, codes, users, nlp_users, variables):
    source_guid = guid("story", story.id)
    created = _datetime(story.confirmed_at)
    source = _element(
        "TextSource",
        guid=source_guid,
        name=f"{story.id} {story.title}"[:200],
        plainTextPath=f"internal://{source_guid}.txt",
        creatingUser=users["export"],
        creationDateTime=created,
    )
    _sub(
        source,
        "Description",
        f"{story.title}. {story.team}, {story.municipality}, {story.month},"
        f" {story.teller_role}."
        + (f" Les van de verteller: {story.lesson}" if story.lesson else ""),
    )
    length = len(story.text)
    for tag in story.themes:
        code = codes[tag["theme"]]
        spans: list[tuple[int, int, str, str]] = []
        if tag["by_nlp"] and tag["model"]:
            for e in tag["evidence"]:
                spans.append((e["start"], e["end"], nlp_users[tag["model"]], "nlp"))
        if tag["by_teller"]:
            spans.append((0, length, users["teller"], "teller"))
        if tag["reviewed"]:
            spans.append((0, length, users["review"], "review"))
        if tag["by_nlp"] and not tag["evidence"] and tag["model"]:
            spans.append((0, length, nlp_users[tag["model"]], "nlp"))
        for start, end, user, who in spans:
            if length == 0:
                continue
            selection = _sub(
                source,
                "PlainTextSelection",
                guid=guid("selection", story.id, tag["theme"], start, end, who),
                name=f"{tag['theme']}: {story.text[start:end][:60]}",
                startPosition=start,
                endPosition=end,
                creatingUser=user,
                creationDateTime=created,
            )
            coding = _sub(
                selection,
                "Coding",
                guid=guid("coding", story.id, tag["theme"], start, end, who),
                creatingUser=user,
                creationDateTime=created,
            )
            _sub(coding, "CodeRef", targetGUID=code)
    values = (
        ("maand", story.month),
        ("team", story.team),
        ("gemeente", story.municipality),
        ("rol verteller", story.teller_role),
        ("vertelpunt-id", story.id),
    )
    for name, value in values:
        variable_value = _sub(source, "VariableValue")
        _sub(variable_value, "VariableRef", targetGUID=variables[name])
        kind = "IntegerValue" if isinstance(value, int) else "TextValue"
        _sub(variable_value, kind, str(value))
    return source
