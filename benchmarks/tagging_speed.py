"""Tagging throughput: stories/s and words/s on generated 400-word stories, one process.

    python benchmarks/tagging_speed.py [--stories 2000] [--runs 5] [--model-dir DIR] [--json]

Stories are generated from a fixed seed out of sentences in the style of practice stories, so
runs are comparable. The tagger is warmed up first (lemma cache, matchers); the figure is the
median of the runs of `Tagger.tag_many` over all stories.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.pipeline import Tagger  # noqa: E402

SENTENCES = [
    "Moeder heeft al jaren schulden en durft de post niet meer open te maken.",
    "De buurvrouw haalt de kinderen twee keer per week uit school.",
    "We hebben een casusoverleg georganiseerd met de huisarts en de jeugdarts.",
    "Er zijn geen zorgen over de veiligheid van de kinderen.",
    "De wachtlijst voor specialistische jeugdhulp was ruim een half jaar.",
    "Ik mocht zonder toestemming van vader niets met school delen.",
    "Achteraf had ik eerder met een collega moeten sparren over mijn twijfel.",
    "Door de huurachterstand dreigde een huisuitzetting en de corporatie wilde niet wachten.",
    "Na de scheiding werd de omgangsregeling steeds weer een strijd.",
    "Vader drinkt te veel en is dan onvoorspelbaar voor de kinderen.",
    "Het was een grijze dinsdagochtend toen ik voor het eerst aanbelde bij het gezin.",
    "De oudste zoon zit in de tweede klas en speelt op zaterdag voetbal.",
    "Wat ik heb geleerd is dat je moet blijven komen, ook als de deur dicht blijft.",
    "We spraken af dat ik over twee weken terug zou komen om verder te praten.",
    "Oma woont om de hoek en springt bij als moeder moet werken.",
    "De energierekening was in een jaar verdubbeld en er was geen buffer.",
    "- Afspraak gemaakt met de budgetcoach.",
    "Het meisje vertelde haar juf dat ze bang was om naar huis te gaan.",
    "Mijn caseload was zo vol dat ik het gezin maar eens per maand zag.",
    "Moeder kampt met een depressie en komt haar bed nauwelijks uit.",
]


def make_stories(n: int, words: int = 400, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    stories = []
    for _ in range(n):
        parts, count = [], 0
        while count < words:
            sentence = rng.choice(SENTENCES)
            parts.append(sentence + ("\n" if rng.random() < 0.15 else " "))
            count += len(sentence.split())
        stories.append("".join(parts).strip())
    return stories


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tagger = Tagger.load(args.model_dir)
    stories = make_stories(args.stories)
    n_words = sum(len(s.split()) for s in stories)
    for _ in tagger.tag_many(stories[:200]):  # warm-up
        pass
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        n = sum(1 for _ in tagger.tag_many(stories))
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    result = {"model_version": tagger.model_version, "stories": n, "words": n_words,
              "runs": args.runs, "median_seconds": round(median, 3),
              "stories_per_second": round(n / median, 1),
              "words_per_second": round(n_words / median)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['stories_per_second']} stories/s, {result['words_per_second']} words/s "
              f"(median of {args.runs} runs over {n} stories of ~400 words; "
              f"model {result['model_version']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
