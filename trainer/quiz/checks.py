"""Per-question consistency rules shared by the validator and the author page."""

from __future__ import annotations

from trainer.atlas.core import Atlas
from trainer.quiz.models import QuestionModel
from trainer.quiz.views import is_known_view
from trainer.safetext import field_text_problems

PIN_TYPES = {"locate", "multi_site", "trace"}

#: A right option longer than this many times the longest wrong one *and* ...
LONG_OPTION_RATIO = 1.5
#: ... more than this many characters longer is flagged: learners pick it by its length.
LONG_OPTION_EXTRA_CHARS = 30


def question_problems(atlas: Atlas, q: QuestionModel) -> list[tuple[str, str]]:
    """Return ``(field, message)`` pairs for everything wrong with one question."""
    out: list[tuple[str, str]] = []
    if not q.explanation.strip():
        out.append(("explanation", "every question needs an explanation"))
    if not q.references:
        out.append(("references", "cites no reference"))
    for r in q.references:
        if r not in atlas.references:
            out.append(("references", f"unknown reference '{r}'"))
    needs_view = q.type in PIN_TYPES or q.type in {"identify", "territory"} or (q.type == "case" and q.view)
    if needs_view:
        if q.view is None:
            out.append(("view", f"a {q.type} question needs a view"))
        elif not is_known_view(atlas, q.view):
            out.append(("view", f"unknown view '{q.view}'"))
    for t in q.targets:
        if atlas.item(t) is None:
            out.append(("targets", f"unknown atlas id '{t}'"))
    if q.tags.region and q.tags.region not in atlas.regions:
        out.append(("tags.region", f"unknown region '{q.tags.region}'"))
    for n in q.tags.nerves:
        if n not in atlas.nerves:
            out.append(("tags.nerves", f"unknown nerve '{n}'"))
    for c in q.tags.conditions:
        if c not in atlas.conditions:
            out.append(("tags.conditions", f"unknown condition '{c}'"))
    match q.type:
        case "locate":
            if len(q.targets) != 1:
                out.append(("targets", "a locate question has exactly one target (a site or a nerve)"))
        case "multi_site":
            if len(q.targets) < 2:
                out.append(("targets", "a multi_site question needs at least two targets"))
        case "trace":
            if len(q.targets) != 1 or q.targets[0] not in atlas.nerves:
                out.append(("targets", "a trace question has exactly one target nerve"))
        case "identify":
            if len(q.targets) != 1 or q.targets[0] not in atlas.nerves:
                out.append(("targets", "an identify question highlights exactly one nerve"))
            out.extend(_choice_problems(q, single=True))
        case "territory":
            if len(q.targets) != 1 or q.targets[0] not in atlas.territories:
                out.append(("targets", "a territory question has exactly one target territory"))
            if q.mode is None:
                out.append(("mode", "territory questions need mode: name or tap"))
            elif q.mode == "name":
                out.extend(_choice_problems(q, single=True))
        case "clinical":
            out.extend(_choice_problems(q, single=not q.multi_answer))
        case "case":
            if not q.steps:
                out.append(("steps", "a case needs steps"))
            for i, step in enumerate(q.steps):
                for t in step.targets:
                    if atlas.item(t) is None and t not in atlas.landmarks:  # a step may place landmarks
                        out.append((f"steps.{i}.targets", f"unknown atlas id '{t}'"))
                if step.type in {"identify", "clinical"}:
                    n_correct = sum(c.correct for c in step.choices)
                    if len(step.choices) < 2 or n_correct < 1:
                        out.append((f"steps.{i}.choices", "needs at least two choices and one correct"))
                elif not step.targets:
                    out.append((f"steps.{i}.targets", "a placing step needs targets"))
                if step.type in {"locate", "multi_site"} and q.view is None:
                    out.append(("view", "a case with placing steps needs a view"))
    # Control characters break the Moodle XML and Anki fields; images fetch third-party URLs.
    out.extend(field_text_problems(q))
    out.extend(source_problems(atlas, q))
    out.extend(tolerance_problems(atlas, q))
    return out


def question_texts(q: QuestionModel) -> list[tuple[str, str]]:
    """``(field, text)`` for every learner-facing text of a question, case steps included."""
    texts = [("prompt", q.prompt), ("explanation", q.explanation), ("vignette", q.vignette or "")]
    for i, c in enumerate(q.choices):
        texts += [(f"choices.{i}.text", c.text), (f"choices.{i}.why", c.why or "")]
    for i, step in enumerate(q.steps):
        texts.append((f"steps.{i}.prompt", step.prompt))
        for j, c in enumerate(step.choices):
            texts += [(f"steps.{i}.choices.{j}.text", c.text), (f"steps.{i}.choices.{j}.why", c.why or "")]
    return texts


def source_problems(atlas: Atlas, q: QuestionModel) -> list[tuple[str, str]]:
    """The technique and source rules of :mod:`trainer.atlas.content_rules`, for a question: it
    cites a source of the technique it is filed under, and no text claims a PIT mapping no
    source gives."""
    from trainer.atlas import content_rules as rules

    out = [
        ("technique", m) for m in rules.technique_source_problems(q.technique, q.references, atlas.references)
    ]
    out.extend(rules.mapping_claim_problems(question_texts(q)))
    return out


def tolerance_problems(atlas: Atlas, q: QuestionModel) -> list[tuple[str, str]]:
    """A locate question on sites inherits the sites' tolerance from the published spread
    (:mod:`trainer.atlas.tolerance`) unless it says why not."""
    from trainer.atlas import tolerance
    from trainer.quiz.kinds import is_locate

    return tolerance.question_problems(
        is_locate(q), q.targets, q.tolerance_cm, q.zero_cm, q.tolerance_reason, atlas.sites
    )


def _choice_problems(q: QuestionModel, single: bool) -> list[tuple[str, str]]:
    n_correct = sum(c.correct for c in q.choices)
    out = []
    if len(q.choices) < 2:
        out.append(("choices", "needs at least two choices"))
    if n_correct == 0:
        out.append(("choices", "no choice is marked correct"))
    elif single and n_correct > 1:
        out.append(("choices", "single-answer question has more than one correct choice"))
    return out


def question_warnings(q: QuestionModel) -> list[tuple[str, str]]:
    """``(field, message)`` pairs for what is legal but weakens a question (``validate`` prints
    them as warnings and still exits 0).

    A right option much longer than every wrong one (over :data:`LONG_OPTION_RATIO` times the
    longest wrong option and over :data:`LONG_OPTION_EXTRA_CHARS` characters longer) can be
    picked by its length alone. Where the right option sits in the file is no longer a concern:
    options are shown shuffled.

    >>> q = QuestionModel(id="q", type="clinical", prompt="Which one?", choices=[
    ...     {"text": "Yes, because of a long and carefully hedged reason", "correct": True}, {"text": "No"}])
    >>> question_warnings(q)[0][0]
    'choices.0'
    """
    sets = [("choices", q.choices), *((f"steps.{i}.choices", s.choices) for i, s in enumerate(q.steps))]
    out: list[tuple[str, str]] = []
    for field, choices in sets:
        wrong = [len(c.text) for c in choices if not c.correct]
        if not wrong:
            continue
        longest_wrong = max(wrong)
        for i, c in enumerate(choices):
            n = len(c.text)
            if (
                c.correct
                and n > LONG_OPTION_RATIO * longest_wrong
                and n - longest_wrong > LONG_OPTION_EXTRA_CHARS
            ):
                out.append(
                    (
                        f"{field}.{i}",
                        f"the right option is {n} characters long, the longest wrong one "
                        f"{longest_wrong}: it gives itself away by its length (shorten it and "
                        "move the reasoning into its 'why' or the explanation)",
                    )
                )
    return out
