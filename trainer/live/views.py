"""Which questions a class can play and what each phone sees: the view a question is shown (and
scored) on, fixed when the class is created, and the shuffled order of its options."""

from __future__ import annotations

import random
from collections.abc import Callable

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.quiz.choices import fixed_order
from trainer.quiz.models import QuestionModel
from trainer.store import LiveSession

#: Question types a phone can answer in a live class: pins on the image, or one set of choices.
LIVE_TYPES: tuple[str, ...] = ("locate", "multi_site", "trace", "territory", "identify", "clinical")
SIDES: tuple[str, ...] = ("right", "left", "mixed")

ViewLoader = Callable[[str, str], RenderedView]


def is_live_question(q: QuestionModel) -> bool:
    """Cases have several steps on several screens; everything else fits one phone screen."""
    return q.type in LIVE_TYPES


def default_loader(atlas: Atlas) -> ViewLoader:
    return lambda view_id, body_type: load_rendered_view(view_id, body_type, atlas.root)


def resolve_view(atlas: Atlas, q: QuestionModel, side: str, rng: random.Random) -> str | None:
    """The full view id for a question: its own full id, else its base view on the chosen side."""
    if not q.view:
        return None
    if q.view in atlas.views:
        return q.view
    sides = sorted(v.side for v in atlas.views.values() if v.base_id == q.view)
    if not sides:
        return None
    chosen = rng.choice(sides) if side == "mixed" else side
    return f"{q.view}_{chosen}" if chosen in sides else None


def question_view(
    atlas: Atlas, session: LiveSession, index: int, view_loader: ViewLoader | None = None
) -> RenderedView | None:
    """The rendered view question ``index`` of this class is shown (and scored) on."""
    view_ids = session.settings.get("view_ids") or []
    view_id = view_ids[index] if 0 <= index < len(view_ids) else None
    if view_id is None:
        return None
    body_type = str(session.settings.get("body_type") or atlas.default_body_type)
    return (view_loader or default_loader(atlas))(view_id, body_type)


def choice_order(session: LiveSession, index: int, n_options: int) -> tuple[int, ...]:
    """Display order of question ``index``'s options in this class: ``order[k]`` is the file
    index of the option shown at position ``k``, the same on every phone, server and the host.

    Derived from the class's stored seed and the question's place in the class, so nothing has
    to be written when a question opens. (A class created before seeds were stored uses its id.)
    """
    seed = str(session.settings.get("choice_seed") or session.id)
    return fixed_order(f"{seed}:{index}", n_options)
