"""Asking the model for one stage's JSON, robustly, and accounting for what it cost.

Each stage sends ``response_format`` of type ``json_schema`` named after the stage. Replies
are parsed leniently (raw JSON, fenced, or inside prose; unknown keys dropped), validated
against the stage's draft model, and checked by the stage; a reply that fails any of these
is shown back to the model with the reason and asked again, at most ``max_reasks`` times,
each re-ask counted. A server that rejects ``response_format`` outright (HTTP 400) is asked
again without it, and the rest of the run stops sending it.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ValidationError

from factory.errors import LLMRequestRejected
from factory.llm.parsing import extract_code, parse_json_reply
from factory.prompts import PromptSet
from factory.records import Stage, TokenUsage

D = TypeVar("D", bound=BaseModel)
BAD_REPLY_ECHO_CHARS = 6000
# Which waiting request gets the next free LLM slot (lower first): a problem statement has
# the solution and the tests waiting behind it, so it goes before requests nothing waits on.
FIRST, LATER = 0, 1
STAGE_PRIORITY = {Stage.PROBLEM: FIRST}


def _code_text(code: str) -> str:
    if not code.strip():
        raise ValueError("is empty")
    return code.strip("\n") + "\n"


# A file the model wrote (solution, tests, repair): not blank, one trailing newline.
CodeText = Annotated[str, AfterValidator(_code_text)]


class StageFailed(Exception):
    """A stage got no usable reply within its re-asks (the problem ends, the run goes on)."""

    def __init__(self, stage: Stage, reason: str) -> None:
        super().__init__(f"{stage.value} stage: {reason}")
        self.stage = stage
        self.reason = reason


@dataclass
class StructuredOutputs:
    """Whether to send ``response_format``; shared by every call of a run."""

    enabled: bool = True


@dataclass
class Asker:
    """What every stage needs to talk to the model: client, prompts and sampling settings."""

    llm: Any  # factory.llm.LLMClient, or any object with the same ``complete``
    prompts: PromptSet
    temperature: float
    max_tokens: int
    max_reasks: int
    structured: StructuredOutputs = field(default_factory=StructuredOutputs)
    on_reask: Callable[[Stage], None] = lambda stage: None
    # The templates of seed snippets, personas, focus, the judge and evolve (their own
    # version, so a run that uses none of them keeps the prompt hash it always had).
    steer: PromptSet | None = None

    async def ask(
        self,
        stage: Stage,
        messages: Sequence[Mapping[str, str]],
        draft: type[D],
        usage: TokenUsage,
        *,
        seed: int | None,
        check: Callable[[D], str | None] | None = None,
        schema_name: str | None = None,
    ) -> D:
        """The stage's validated draft, re-asking on bad replies; raises StageFailed.

        ``schema_name`` names the ``json_schema`` of a call that belongs to ``stage`` (its
        cost and re-asks are the stage's) but asks for something else, such as the concepts
        of a seed snippet before the problem."""
        conversation = list(messages)
        error = ""
        for attempt in range(self.max_reasks + 1):
            if attempt:
                usage.reasks += 1
                self.on_reask(stage)
            completion = await self._complete(stage, conversation, draft, seed, schema_name)
            usage.calls += 1
            usage.retries += completion.retries
            usage.prompt_tokens += completion.prompt_tokens
            usage.completion_tokens += completion.completion_tokens
            text = completion.texts[0] if completion.texts else ""
            outcome = _problem_with(text, draft, check)
            if isinstance(outcome, BaseModel):
                return outcome
            error = outcome
            if completion.finish_reasons and completion.finish_reasons[0] == "length":
                error += " (the reply was cut off by the token limit: answer more concisely)"
            conversation += [
                {"role": "assistant", "content": text[-BAD_REPLY_ECHO_CHARS:] or "(empty)"},
                *self.prompts.messages("reask", error=error, fields=_field_list(draft)),
            ]
        raise StageFailed(stage, f"no valid reply after {self.max_reasks + 1} tries: {error}")

    async def _complete(
        self, stage: Stage, messages: list, draft: type[BaseModel], seed, schema_name=None
    ):
        options = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": seed,
            "priority": STAGE_PRIORITY.get(stage, LATER),
        }
        if self.structured.enabled:
            try:
                return await self.llm.complete(
                    messages,
                    response_format=response_format(schema_name or stage, draft),
                    **options,
                )
            except LLMRequestRejected:
                pass  # maybe the server refuses json_schema outright: try once without it
        try:
            completion = await self.llm.complete(messages, **options)
        except LLMRequestRejected as exc:
            raise StageFailed(stage, f"the endpoint rejected the request: {exc}") from None
        if self.structured.enabled:
            # Rejected with response_format, answered without it: stop sending it (the
            # prompts describe the JSON too). A request rejected both ways (say, too long)
            # says nothing about response_format and changes nothing.
            self.structured.enabled = False
        return completion


def _problem_with(text: str, draft: type[D], check) -> D | str:
    """The validated draft, or what is wrong with the reply (to show the model)."""
    try:
        data = parse_json_reply(text)
    except ValueError as exc:
        return f"{exc}."
    known = {key: value for key, value in data.items() if key in draft.model_fields}
    for name, value in known.items():
        if name == "code" and isinstance(value, str) and "```" in value:
            known[name] = extract_code(value)
    try:
        value = draft.model_validate(known)
    except ValidationError as exc:
        return "; ".join(_describe(error) for error in exc.errors()[:3]) + "."
    problem = check(value) if check else None
    return problem if problem else value


def _describe(error: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "the object"
    if error["type"] == "missing":
        return f'the field "{where}" is missing'
    return f'"{where}": {error["msg"].removeprefix("Value error, ")}'


def _field_list(draft: type[BaseModel]) -> str:
    return ", ".join(f'"{name}"' for name in draft.model_fields)


def response_format(stage: Stage | str, draft: type[BaseModel]) -> dict[str, Any]:
    """``{"type": "json_schema", ...}`` for a draft model: all fields required, nothing else."""
    name = stage.value if isinstance(stage, Stage) else stage
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "strict": True, "schema": json_schema(draft)},
    }


def json_schema(draft: type[BaseModel]) -> dict[str, Any]:
    """A plain schema (strings and string enums) that strict-mode servers and grammar-guided
    decoders all accept; length and format rules are checked after parsing instead."""
    properties = {}
    for name, info in draft.model_fields.items():
        prop: dict[str, Any] = {"type": "string"}
        if typing.get_origin(info.annotation) is Literal:
            prop["enum"] = list(typing.get_args(info.annotation))
        if info.description:
            prop["description"] = info.description
        properties[name] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
