"""Learning from review: researchers' decisions become training data for a new model.

A reviewed story's labels are what the reviewers left standing: the tagger's themes they did
not reject, plus the themes they added. Those stories join the shipped training data (demo
stories and nlp/data paragraphs); a seeded 20 % is held out. The new model replaces the
active one only when its macro-F1 on that held-out part is not worse (nlp.train).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from nlp import train as nlp_train
from nlp.evaluate import Example, cohen_kappa, evaluate
from nlp.pipeline import Tagger
from nlp.taxonomy import Taxonomy

from .db import Database

REVIEW_WEIGHT = 2.0  # a reviewer's judgement counts for more than a shipped example


@dataclass
class TrainingReport:
    new_version: str
    promoted: bool
    current_version: str | None
    new_macro_f1: float | None
    current_macro_f1: float | None
    reviewed_stories: int
    training_size: int
    heldout_size: int
    per_theme: dict = field(default_factory=dict)  # theme -> precision/recall/f1/support
    kappa: dict = field(default_factory=dict)  # theme -> Cohen's kappa tagger vs reviewers


async def reviewed_examples(db: Database) -> list[Example]:
    rows = await db.fetchall(
        "SELECT s.id, s.text, st.theme, st.source, st.decision FROM stories s"
        " JOIN story_themes st ON st.story_id = s.id"
        " WHERE s.status = 'confirmed' AND s.id IN"
        " (SELECT story_id FROM story_themes WHERE source GLOB 'human:*')"
        " ORDER BY s.id"
    )
    texts: dict[int, str] = {}
    tagged: dict[int, set[str]] = {}
    added: dict[int, set[str]] = {}
    rejected: dict[int, set[str]] = {}
    for row in rows:
        texts[row["id"]] = row["text"]
        if row["source"].startswith("nlp:"):
            tagged.setdefault(row["id"], set()).add(row["theme"])
        elif row["decision"] in ("accept", "add"):
            added.setdefault(row["id"], set()).add(row["theme"])
        elif row["decision"] == "reject":
            rejected.setdefault(row["id"], set()).add(row["theme"])
    return [
        Example(
            text=text,
            themes=frozenset((tagged.get(i, set()) | added.get(i, set())) - rejected.get(i, set())),
            source="review",
            weight=REVIEW_WEIGHT,
        )
        for i, text in texts.items()
    ]


def train_and_promote(
    examples: list[Example], reviewed: list[Example], taxonomy: Taxonomy, models_dir: Path
) -> TrainingReport:
    """The CPU-bound part: train, evaluate on the held-out split, promote if not worse."""
    train_set, heldout = nlp_train.split_heldout(examples + reviewed)
    model = nlp_train.train(train_set, taxonomy)
    path = nlp_train.save(model, models_dir)
    current = nlp_train.registry.active_version(models_dir)
    promotion = nlp_train.promote_if_not_worse(
        path, models_dir / current if current else None, heldout, taxonomy
    )
    new_tagger = Tagger.load(path, taxonomy)
    metrics = evaluate(new_tagger, heldout)
    kappa = {}
    if reviewed:
        predicted = [
            {t.theme for t in r.themes} for r in new_tagger.tag_many([e.text for e in reviewed])
        ]
        kappa = cohen_kappa([e.themes for e in reviewed], predicted, taxonomy.ids)
    return TrainingReport(
        new_version=promotion.new_version,
        promoted=promotion.promoted,
        current_version=promotion.current_version,
        new_macro_f1=promotion.new_macro_f1,
        current_macro_f1=promotion.current_macro_f1,
        reviewed_stories=len(reviewed),
        training_size=len(train_set),
        heldout_size=len(heldout),
        per_theme=metrics["per_theme"],
        kappa=kappa,
    )


async def train_from_reviews(db: Database, taxonomy: Taxonomy, models_dir: Path):
    reviewed = await reviewed_examples(db)
    shipped = await asyncio.to_thread(nlp_train.default_examples)
    return await asyncio.to_thread(train_and_promote, shipped, reviewed, taxonomy, models_dir)
