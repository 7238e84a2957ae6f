"""Fill a Vertelpunt database with N generated, already masked and tagged stories.

    .venv/bin/python benchmarks/generate_stories.py --db /tmp/bench.db -n 100000

Stories are Dutch sentences combined from templates per theme (so themes, evidence offsets,
lessons and search terms are realistic enough for speed work), spread over teams in
several municipalities and five years of months, with NLP-like tags (score, evidence
sentences), teller tags that mostly but not always agree, and some lessons. Everything is
inserted in bulk: the derived research tables (effective themes, search index, similar
stories) are filled once at the end instead of by triggers per row.

Also creates a researcher account (--email, --password) for benchmarks/research_speed.py.
Fictional data only; nothing here comes from real stories.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.taxonomy import Taxonomy  # noqa: E402
from vertelpunt import search  # noqa: E402
from vertelpunt.auth import hash_password  # noqa: E402
from vertelpunt.db import Database, migrate  # noqa: E402

MUNICIPALITIES = {
    "Zwolle": ["Wijkteam Holtenbroek", "Wijkteam Stadshagen", "Wijkteam Zuid", "Wijkteam Oost"],
    "Tilburg": ["Buurtteam Noord", "Buurtteam Reeshof", "Buurtteam Centrum", "Buurtteam West"],
    "Deventer": [
        "Sociaal team Colmschate",
        "Sociaal team Keizerslanden",
        "Sociaal team Binnenstad",
    ],
    "Leeuwarden": ["Gebiedsteam Heechterp", "Gebiedsteam Bilgaard", "Gebiedsteam Vrijheidswijk"],
    "Almere": ["Wijkteam Haven", "Wijkteam Buiten", "Wijkteam Poort", "Wijkteam Stad"],
    "Nijmegen": [
        "Sociaal wijkteam Dukenburg",
        "Sociaal wijkteam Lindenholt",
        "Sociaal wijkteam Oost",
    ],
}
ROLES = [
    "wijkcoach",
    "jeugdverpleegkundige",
    "schuldhulpverlener",
    "maatschappelijk werker",
    "gezinscoach",
    "ambulant hulpverlener",
    "jongerenwerker",
    "wmo-consulent",
]
CHILD = ["zoon", "dochter", "oudste zoon", "jongste dochter", "pleegzoon"]
ORG = [
    "de school",
    "de huisarts",
    "de woningcorporatie",
    "Veilig Thuis",
    "de wijkagent",
    "het consultatiebureau",
    "de jeugdarts",
    "de GGZ",
]
AMOUNT = ["800", "1.200", "2.500", "4.000", "7.300", "12.000"]

SENTENCES = {
    "veiligheid": [
        "Ik maakte me zorgen over de veiligheid van de kinderen toen er weer geschreeuwd werd.",
        "De {child} vertelde op school dat papa soms slaat als hij gedronken heeft.",
        "We hebben samen met Veilig Thuis een veiligheidsplan opgesteld.",
        "Na een melding over huiselijk geweld ben ik dezelfde dag langsgegaan.",
        "Moeder durfde niet naar huis omdat haar ex-partner dreigementen stuurde.",
        "De {child} had blauwe plekken en wilde er niets over zeggen.",
    ],
    "armoede": [
        "Het gezin had een schuld van {amount} euro en de deurwaarder stond voor de deur.",
        "Er was geen geld meer voor boodschappen, dus ze gingen naar de voedselbank.",
        "De huurachterstand liep op omdat de toeslagen waren stopgezet.",
        "Samen met de schuldhulpverlening hebben we een budgetplan gemaakt.",
        "Vader schaamde zich voor de schulden en opende de brieven niet meer.",
        "De energierekening was zo hoog dat de verwarming uit bleef.",
    ],
    "informeel-netwerk": [
        "De buurvrouw bood aan om na schooltijd op de kinderen te passen.",
        "Oma hielp mee, maar als mantelzorger raakte ze zelf uitgeput.",
        "Via het buurthuis vond moeder een vrijwilliger die meeging naar afspraken.",
        "De vrienden van de familie kookten een paar keer per week.",
        "Een maatje van de kerk kwam wekelijks langs voor een praatje.",
        "De zus van moeder nam de zorg voor de jongste tijdelijk over.",
    ],
    "samenwerking": [
        "Ik belde met {org} om de zorgen te delen en afspraken te maken.",
        "In een overleg met {org} en de jeugdbescherming kwamen we tot één plan.",
        "De samenwerking met {org} liep stroef omdat niemand regie nam.",
        "We organiseerden een gezamenlijk gesprek met het gezin en {org}.",
        "Na de verwijzing naar specialistische jeugdzorg bleef het lang stil.",
        "De woningcorporatie was bereid de ontruiming uit te stellen na ons overleg.",
    ],
    "werkdruk": [
        "Door de wachtlijst kon de specialistische hulp pas na maanden beginnen.",
        "Mijn caseload was zo vol dat ik het gezin maar eens per maand zag.",
        "We hadden te weinig tijd om echt naast het gezin te staan.",
        "Door ziekte in het team nam ik er twee gezinnen extra bij.",
        "De werkdruk maakte dat ik pas laat zag hoe ernstig het was.",
    ],
    "privacy": [
        "Moeder gaf geen toestemming om informatie met de school te delen.",
        "Ik twijfelde of ik mijn beroepsgeheim mocht doorbreken.",
        "Het was lastig dat {org} geen gegevens wilde delen zonder toestemming.",
        "We bespraken met het gezin welke informatie we met wie zouden delen.",
        "De privacyregels maakten het afstemmen met de huisarts ingewikkeld.",
    ],
    "vakmanschap": [
        "Bij intervisie reflecteerde ik op mijn eigen rol in dit gezin.",
        "Ik leerde om eerst te luisteren in plaats van meteen oplossingen te bieden.",
        "Mijn collega hielp me met een andere blik op de situatie.",
        "Achteraf had ik eerder mijn twijfels moeten uitspreken.",
        "Door de training over gespreksvoering ging het gesprek beter.",
    ],
    "wonen": [
        "Het gezin woonde met vijf mensen in een kleine flat met schimmel.",
        "Na de scheiding had vader geen woning en sliep hij bij vrienden op de bank.",
        "De dreigende ontruiming gaf het hele gezin veel stress.",
        "Via een urgentieverklaring kreeg moeder uiteindelijk een andere woning.",
        "De woning was vochtig en de kinderen waren vaak ziek.",
    ],
    "opvoeding": [
        "De ouders hadden voortdurend ruzie over de opvoeding van de {child}.",
        "Na de scheiding wisten de kinderen niet meer waar ze aan toe waren.",
        "De {child} van {age} weigerde naar school te gaan en bleef gamen.",
        "Moeder vond het moeilijk om grenzen te stellen aan de puber.",
        "We oefenden met de ouders hoe ze rustig konden reageren op driftbuien.",
    ],
    "gezondheid": [
        "Moeder had een depressie en kwam nauwelijks uit bed.",
        "Vader was verslaafd aan alcohol en had een terugval.",
        "De {child} had een angststoornis en kreeg hulp van de GGZ.",
        "Door chronische pijn kon moeder haar werk niet meer doen.",
        "De huisarts verwees vader door voor zijn psychische klachten.",
    ],
}
NEUTRAL = [
    "Ik kwam voor het eerst bij het gezin na een aanmelding bij het wijkteam.",
    "Het gezin bestaat uit moeder, vader en drie kinderen.",
    "[PERSOON-1] vertelde open over wat er speelde.",
    "We spraken af dat ik over twee weken terug zou komen.",
    "De {child} van {age} jaar zat er stil bij.",
    "Het gesprek vond plaats aan de keukentafel.",
    "Na een paar maanden zagen we de eerste verbetering.",
    "Het duurde even voordat er vertrouwen was.",
    "We hebben de doelen samen met het gezin op papier gezet.",
    "Uiteindelijk is het dossier in goed overleg afgesloten.",
]
LESSONS = [
    "Wat ik heb geleerd: begin bij wat het gezin zelf al doet.",
    "De les voor mij is dat je eerder moet vragen wie er al helpt.",
    "Ik neem mee dat een warme overdracht veel oplevert.",
    "Mijn les: neem de tijd om vertrouwen op te bouwen.",
    "Achteraf gezien had ik eerder moeten opschalen.",
]
THEME_WEIGHTS = {
    "armoede": 8,
    "informeel-netwerk": 6,
    "samenwerking": 7,
    "veiligheid": 4,
    "werkdruk": 3,
    "privacy": 2,
    "vakmanschap": 3,
    "wonen": 4,
    "opvoeding": 5,
    "gezondheid": 4,
}
MONTHS = [f"{y}-{m:02d}" for y in range(2021, 2026) for m in range(1, 13)]


def fill(sentence: str, rng: random.Random) -> str:
    return sentence.format(
        child=rng.choice(CHILD),
        org=rng.choice(ORG),
        amount=rng.choice(AMOUNT),
        age=rng.randint(4, 17),
    )


def make_story(rng: random.Random) -> dict:
    """One story: text, nlp tags with evidence spans, teller themes, lessons, facts."""
    drawn = rng.choices(
        list(THEME_WEIGHTS), weights=list(THEME_WEIGHTS.values()), k=rng.choice((1, 2, 2, 3))
    )
    themes = list(dict.fromkeys(drawn))
    parts: list[tuple[str, str | None]] = [(fill(rng.choice(NEUTRAL), rng), None)]
    for theme in themes:
        for sentence in rng.sample(SENTENCES[theme], k=2):
            parts.append((fill(sentence, rng), theme))
    parts += [(fill(s, rng), None) for s in rng.sample(NEUTRAL, k=rng.randint(1, 3))]
    head, rest = parts[0], parts[1:]
    rng.shuffle(rest)
    parts = [head, *rest]
    lesson = rng.choice(LESSONS) if rng.random() < 0.5 else None
    if lesson:
        parts.append((lesson, "__lesson__"))
    text, evidence, lesson_span = "", {}, None
    for sentence, theme in parts:
        start = len(text) + (1 if text else 0)
        text = f"{text} {sentence}" if text else sentence
        if theme == "__lesson__":
            lesson_span = (start, len(text))
        elif theme:
            evidence.setdefault(theme, []).append({"start": start, "end": len(text)})
    teller = [t for t in themes if rng.random() < 0.8]
    if rng.random() < 0.15:
        teller.append(rng.choice(list(THEME_WEIGHTS)))
    month = MONTHS[min(len(MONTHS) - 1, int(rng.triangular(0, len(MONTHS), len(MONTHS))))]
    return {
        "title": fill(rng.choice(SENTENCES[themes[0]]), rng)[:60].rstrip(" ,."),
        "text": text,
        "themes": {t: round(rng.uniform(0.5, 1.0), 3) for t in themes},
        "evidence": evidence,
        "teller": sorted(set(teller)),
        "lesson": lesson_span and (lesson_span, text[lesson_span[0] : lesson_span[1]]),
        "teller_lesson": rng.choice(LESSONS) if rng.random() < 0.3 else "",
        "month": month,
        "role": rng.choice(ROLES),
        "difference": rng.randint(0, 100) if rng.random() < 0.9 else None,
        "outcome": rng.randint(0, 100) if rng.random() < 0.9 else None,
    }


BULK_TRIGGERS = (
    "story_themes_effective_insert",
    "lessons_research_insert",
    "stories_research_insert",
)


def generate(db_path: Path, n: int, seed: int, email: str, password: str) -> None:
    started = time.perf_counter()
    migrate(db_path)
    taxonomy = Taxonomy.load()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = OFF")  # a benchmark fixture: speed over durability
    rng = random.Random(seed)
    conn.execute("BEGIN IMMEDIATE")
    team_ids = []
    for municipality, teams in MUNICIPALITIES.items():
        conn.execute("INSERT OR IGNORE INTO municipalities (name) VALUES (?)", (municipality,))
        (mid,) = conn.execute(
            "SELECT id FROM municipalities WHERE name = ?", (municipality,)
        ).fetchone()
        for team in teams:
            conn.execute(
                "INSERT OR IGNORE INTO teams (name, municipality_id) VALUES (?, ?)", (team, mid)
            )
            team_ids.append(
                conn.execute("SELECT id FROM teams WHERE name = ?", (team,)).fetchone()[0]
            )
    conn.execute(
        "INSERT INTO users (email, role, password_hash) VALUES (?, 'onderzoeker', ?)"
        " ON CONFLICT(email) DO UPDATE SET password_hash = excluded.password_hash",
        (email, hash_password(password)),
    )
    # Bulk load: per-row triggers off, derived tables filled once below.
    saved = conn.execute(
        f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN"
        f" ({','.join('?' * len(BULK_TRIGGERS))})",
        BULK_TRIGGERS,
    ).fetchall()
    for name in BULK_TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    first = (conn.execute("SELECT coalesce(max(id), 0) FROM stories").fetchone()[0]) + 1
    stories, themes, lessons = [], [], []
    for i in range(n):
        story_id = first + i
        s = make_story(rng)
        stories.append(
            (
                story_id,
                s["title"],
                s["text"],
                rng.choice(team_ids),
                s["month"],
                s["role"],
                s["teller_lesson"],
                s["difference"],
                s["outcome"],
            )
        )
        for theme, score in s["themes"].items():
            themes.append(
                (
                    story_id,
                    theme,
                    "nlp:bench-1",
                    taxonomy.version,
                    score,
                    json.dumps(s["evidence"].get(theme, [])),
                    "rules+classifier",
                )
            )
        for theme in s["teller"]:
            themes.append((story_id, theme, "teller", taxonomy.version, None, "[]", None))
        if s["lesson"]:
            (start, end), text = s["lesson"]
            lessons.append((story_id, "nlp:bench-1", start, end, text))
        if s["teller_lesson"]:
            lessons.append((story_id, "teller", None, None, s["teller_lesson"]))
    conn.executemany(
        "INSERT INTO stories (id, status, title, text, team_id, month, teller_role, lesson,"
        " signifier_difference, signifier_outcome, origin, nlp_status, confirmed_at)"
        " VALUES (?, 'confirmed', ?, ?, ?, ?, ?, ?, ?, ?, 'import', 'done',"
        " strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
        stories,
    )
    conn.executemany(
        "INSERT INTO story_themes (story_id, theme, source, taxonomy_version, score, evidence,"
        " component) VALUES (?, ?, ?, ?, ?, ?, ?)",
        themes,
    )
    conn.executemany(
        "INSERT INTO lessons (story_id, source, start, end, text) VALUES (?, ?, ?, ?, ?)", lessons
    )
    conn.execute("DELETE FROM story_effective_themes")
    conn.execute("INSERT INTO story_effective_themes SELECT * FROM effective_themes")
    for (sql,) in saved:
        conn.execute(sql)
    conn.execute("UPDATE research_state SET version = version + 1")
    conn.execute("COMMIT")
    print(
        f"{n} stories, {len(themes)} tags, {len(lessons)} lessons inserted"
        f" in {time.perf_counter() - started:.1f} s"
    )

    # The search index, in bulk (same stemming as the app: vertelpunt/search.py).
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    cursor = conn.execute(
        "SELECT id, title, text, lesson FROM stories WHERE id >= ? ORDER BY id", (first,)
    )
    cursor.row_factory = sqlite3.Row
    while batch := cursor.fetchmany(5_000):
        docs = search._stem_rows(batch)
        conn.executemany(
            "INSERT INTO story_fts (rowid, title_stems, text_stems) VALUES (?, ?, ?)",
            [(i, *doc) for i, doc in docs.items()],
        )
    conn.execute("DELETE FROM search_queue")
    conn.execute("INSERT INTO story_fts (story_fts) VALUES ('optimize')")
    conn.execute("COMMIT")
    conn.close()
    print(f"search index built in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    count = asyncio.run(_neighbours(db_path))
    print(f"similar stories for {count} stories in {time.perf_counter() - started:.1f} s")


async def _neighbours(db_path: Path) -> int:
    db = Database(db_path, readers=1)
    await db.open()
    try:
        return await search.refresh_neighbours(db)
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("-n", type=int, default=100_000, help="number of stories")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--email", default="onderzoeker@bench.example")
    parser.add_argument("--password", default="benchmark-wachtwoord-2026")
    args = parser.parse_args(argv)
    generate(args.db, args.n, args.seed, args.email, args.password)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
