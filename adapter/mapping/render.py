"""The readable Norwegian text of a plan (CarePlan) and what it refers to, for KITH receivers without FHIR; and of
the resources a referral refers to (:func:`render_resource`), for the text elements of a Henvisning.

Both come from the one narrative renderer (:mod:`adapter.narrative`), which also writes each resource's FHIR
narrative: the text a Dialogmelding carries is the plain-text form of the same structure. Built from the resource
only (no clock, no free choice), so the same plan always gives the same text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapter.narrative import render_text


def render_plan(plan: dict[str, Any], resolve: Callable[[str], dict[str, Any] | None]) -> str:
    """Plain text (UTF-8, Norwegian) for ``plan``; ``resolve`` finds the resource of the Bundle a reference names.
    It lists what a reader needs in a crisis: whose plan it is, its kind, status and period, what matters to the
    person (goals), and every activity grouped by zone (green, yellow, red), with who does what and when."""
    return render_text(plan, resolve)


def render_resource(resource: dict[str, Any]) -> str:
    """Plain text (Norwegian) for a resource a referral refers to: its kind and date, what it is about (code), its
    texts, findings, prognosis, answers and notes, without blank lines. Deterministic."""
    return "\n".join(line for line in render_text(resource).splitlines() if line.strip())
