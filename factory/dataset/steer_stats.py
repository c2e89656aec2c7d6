"""What steered a dataset's rows: lineage depth, judge scores, seed snippets, personas.

Counted in the same pass as the rest of the stats (``factory.dataset.stats``); None for a
dataset none of it touched, so its stats read as they always did.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict, Field

from factory.records import ProblemRecord, Split


class SteeringStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lineage_depth: dict[str, int] = Field(
        default_factory=dict, description="train rows by evolve round (0: not evolved)"
    )
    evolve_operators: dict[str, int] = Field(
        default_factory=dict, description="accepted variants by the operator that made them"
    )
    judge_scores: dict[str, int] = Field(
        default_factory=dict, description="rows the judge rated, by score (every split)"
    )
    judge_rejected: int = Field(0, description="rows the judge's score sent to rejected")
    seeded_rows: int = Field(0, description="rows grounded on a seed snippet")
    seed_snippets: int = Field(0, description="distinct snippets those rows used")
    seed_licences: dict[str, int] = Field(default_factory=dict)
    personas: dict[str, int] = Field(default_factory=dict, description="rows by persona")
    focused_rows: int = Field(0, description="rows shown failed problems as examples")


class SteeringTally:
    def __init__(self) -> None:
        self.depth: Counter[int] = Counter()
        self.operators: Counter[str] = Counter()
        self.scores: Counter[int] = Counter()
        self.judge_rejected = 0
        self.snippets: set[str] = set()
        self.seeded = 0
        self.licences: Counter[str] = Counter()
        self.personas: Counter[str] = Counter()
        self.focused = 0
        self.touched = False

    def add(self, record: ProblemRecord) -> None:
        provenance = record.provenance
        if record.split == Split.TRAIN:
            self.depth[record.lineage.round if record.lineage else 0] += 1
            if record.lineage:
                self.operators[record.lineage.operator] += 1
        judge = record.quality.judge if record.quality else None
        if judge is not None:
            self.scores[judge.score] += 1
        last = record.attempts[-1] if record.attempts else None
        if last and last.rejection and last.rejection.gate == "judge":
            self.judge_rejected += 1
        if provenance.seed_code is not None:
            self.seeded += 1
            self.snippets.add(provenance.seed_code.sha256)
            self.licences[provenance.seed_code.licence or "(none given)"] += 1
        if provenance.persona:
            self.personas[provenance.persona] += 1
        if provenance.focus_examples:
            self.focused += 1
        self.touched = self.touched or bool(
            record.lineage or judge or provenance.seed_code or provenance.persona
            or provenance.focus_examples or self.judge_rejected
        )  # fmt: skip

    def result(self) -> SteeringStats | None:
        if not self.touched:
            return None
        return SteeringStats(
            lineage_depth={str(k): v for k, v in sorted(self.depth.items())},
            evolve_operators=dict(self.operators.most_common()),
            judge_scores={str(k): v for k, v in sorted(self.scores.items())},
            judge_rejected=self.judge_rejected,
            seeded_rows=self.seeded,
            seed_snippets=len(self.snippets),
            seed_licences=dict(self.licences.most_common()),
            personas=dict(self.personas.most_common()),
            focused_rows=self.focused,
        )


def steering_rows(steering: SteeringStats) -> list[tuple[str, str]]:
    """(label, value) lines for the stats table and the card."""
    lines = []
    if any(int(depth) for depth in steering.lineage_depth):
        depths = ", ".join(f"depth {k}: {v}" for k, v in steering.lineage_depth.items())
        lines.append(("lineage (train rows)", depths))
        lines.append(
            (
                "evolve operators",
                ", ".join(f"{k} {v}" for k, v in steering.evolve_operators.items()),
            )
        )
    if steering.judge_scores or steering.judge_rejected:
        scores = ", ".join(f"{k}: {v}" for k, v in steering.judge_scores.items())
        lines.append(("judge scores", f"{scores} ({steering.judge_rejected} rejected)"))
    if steering.seeded_rows:
        lines.append(
            ("seed code", f"{steering.seeded_rows} rows from {steering.seed_snippets} snippets")
        )
    if steering.personas:
        lines.append(("personas", ", ".join(f"{k} {v}" for k, v in steering.personas.items())))
    if steering.focused_rows:
        lines.append(("focus", f"{steering.focused_rows} rows shown failed problems"))
    return lines
