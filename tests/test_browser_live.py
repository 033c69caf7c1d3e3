"""A whole live class in Chromium: the host on a laptop, three players on phones (one reloads
mid-game), one question of every live type (locate, multi_site, trace, identify, territory tap,
territory name, clinical single- and multi-answer), each answered and scored through the real
pages. Also: the host's heatmap hidden until the host peeks, and never while full screen; the
identify and territory-name pictures on the phones and the host; the options in one shuffled
order on every phone and the host; no answer leak before the reveal; a CSV with every answer."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser import need_browser, screenshot, start_app, wait_idle
from tests.test_live_support import (
    EVERY_TYPE,
    LAPTOP,
    PHONE,
    capture_frames,
    host_login,
    join_in_browser,
    new_context,
    page_text,
    site_px,
    submit,
    tap,
    wait_for_image,
    write_every_type_content,
)
from trainer.atlas.rendered import load_rendered_view
from trainer.store import open_store

pytestmark = pytest.mark.browser

PLOTLY = '[data-testid="stPlotlyChart"]'
PIN_TYPES = ("locate", "multi_site", "trace")
#: JS: how many shapes of each kind the pinboard's overlay holds (it lives in shadow roots).
SHAPES_JS = (
    "() => { const roots = [document, ...[...document.querySelectorAll('*')].filter(e => e.shadowRoot)"
    ".map(e => e.shadowRoot)]; const n = {polyline: 0, polygon: 0, circle: 0};"
    " roots.forEach(r => r.querySelectorAll('.pb-wrap svg').forEach(svg => {"
    " n.polyline += svg.querySelectorAll('polyline').length; n.polygon += svg.querySelectorAll('polygon').length;"
    " n.circle += svg.querySelectorAll('circle:not(.pb-pin)').length; })); return n; }"
)
#: Answer information that must not reach a phone before the reveal of a choice question.
CHOICE_SECRETS = (
    "right answer",
    "✓",
    "It runs through site A.",
    "Dextrose 5% in water.",
    '"correct"',
    "nerve_a",
    "terr_a",
)


def target_leaks(blob: bytes, x: float, y: float) -> list[str]:
    """Ways the answer could reach a player: the target id, sidecar fields, or its pixel pair."""
    found = [
        tok for tok in ("site_a", "target_px", "points_px", "anchors_cm", "nerve_a") if tok.encode() in blob
    ]
    pair = re.compile(rf"{x:g}(\.0+)?\s*,\s*{y:g}(\.0+)?".encode())
    if pair.search(blob):
        found.append(f"{x:g},{y:g}")
    return found


def shapes(page: Any) -> dict[str, int]:
    return dict(page.evaluate(SHAPES_JS))


def wait_shapes(page: Any, kind: str) -> None:
    page.wait_for_function(f"() => ({SHAPES_JS})().{kind} > 0", timeout=20000)


def radio_labels(page: Any) -> list[str]:
    """The options as the phone shows them (single answer: radio; multi: checkboxes)."""
    page.locator('[data-testid="stRadio"], [data-testid="stCheckbox"]').first.wait_for(timeout=20000)
    labels = page.locator(
        '[data-testid="stRadio"] [role="radiogroup"] label, [data-testid="stCheckbox"] label'
    )
    return [t.strip() for t in labels.all_inner_texts()]


def host_options(host: Any, n: int) -> list[str]:
    """The numbered option list on the host's screen while the question is open."""
    items = host.locator('[data-testid="stMarkdownContainer"] ol li')
    items.nth(n - 1).wait_for(timeout=20000)
    return [t.strip() for t in items.all_inner_texts()][:n]


def choose(page: Any, texts: list[str]) -> None:
    """Tick options by their text, then wait until Submit can be pressed."""
    for text in texts:
        page.locator('[data-testid="stRadio"] label, [data-testid="stCheckbox"] label').filter(
            has_text=re.compile(rf"^\s*{re.escape(text)}\s*$")
        ).click()
        wait_idle(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Submit' && !b.disabled)",
        timeout=20000,
    )


def tap_pins(page: Any, pts: list[tuple[float, float]]) -> None:
    """Several pins: each tap must show up as one more placed pin before the next."""
    for k, (x, y) in enumerate(pts, start=1):
        box = page.locator('img[alt="Body view"]').bounding_box()
        scale = box["width"] / 200
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.wait_for_timeout(120)
        page.mouse.click(box["x"] + x * scale, box["y"] + y * scale)
        page.get_by_text(f"({k} placed)").wait_for(timeout=20000)


def test_a_whole_class_of_every_type_in_chromium(tmp_path: Path, chromium: Any) -> None:
    need_browser()
    env = write_every_type_content(tmp_path)
    server = start_app(tmp_path, env)
    root = Path(env["TRAINER_ATLAS_DIR"])
    x, y = site_px(root)
    view = load_rendered_view("view_a_right", "female", root)
    nerve = [(float(a), float(b)) for a, b in view.items["nerve_a"].points_px]
    inside = tuple(float(v) for v in view.items["terr_a"].points_px.mean(axis=0))
    # What Ana (right) and Bo (wrong) do on each question.
    right: dict[str, Any] = {
        "every_locate": [(x, y)],
        "every_multi": [(x, y), (nerve[0][0], nerve[0][1] + 10)],
        "every_trace": [(nerve[0][0], nerve[0][1] + d) for d in (0, 20, 40, 60)],
        "every_identify": ["Nerve A"],
        "every_terr_tap": [inside],
        "every_terr_name": ["Nerve A"],
        "every_clinical": ["5% dextrose"],
        "every_clinical_multi": ["Local infection", "Corn allergy"],
    }
    wrong: dict[str, Any] = {
        "every_locate": [(x, y + 20)],
        "every_multi": [(x + 60, y), (x + 60, y + 30)],
        "every_trace": [(x + 55, y - 40), (x + 55, y + 20)],
        "every_identify": ["Nerve B"],
        "every_terr_tap": [(x + 75, y - 70)],
        "every_terr_name": ["Nerve D"],
        "every_clinical": ["Saline 0.9%"],
        "every_clinical_multi": ["Local infection", "Knee pain"],
    }

    try:
        # -- host creates the class (all eight questions) through the setup form
        hctx = new_context(chromium, env, LAPTOP)
        host = hctx.new_page()
        crashed: list[str] = []  # a renderer crash shows as a blank page; say so if it happens
        host.on("crash", lambda _page: crashed.append("host"))
        host_login(host, f"{server.url}/host")
        host.get_by_label("Seconds per question").fill("300")  # the host closes each question early
        host.get_by_label("Number of questions (from banks/filters)").fill(str(len(EVERY_TYPE)))
        host.get_by_role("button", name="Create class").click()
        host.get_by_text("Scan to join").wait_for(timeout=20000)
        wait_idle(host)
        sid = str(host.evaluate("() => new URLSearchParams(location.search).get('session')"))
        store = open_store(data_dir=tmp_path / "data")
        session = store.get_session(sid)
        assert list(session.question_ids) == [e["id"] for e in EVERY_TYPE]
        screenshot(host, "live_host_lobby")
        # Reloading the projector tab keeps the host in (a grant in the tab's sessionStorage,
        # never in the URL); a fresh tab on the same URL still has to type the key.
        assert "grant" not in host.url
        host.reload()
        host.get_by_text("Scan to join").wait_for(timeout=20000)
        assert host.get_by_label("Host key").count() == 0
        other = new_context(chromium, env, LAPTOP).new_page()
        other.goto(host.url)
        other.get_by_label("Host key").wait_for(timeout=20000)
        assert other.get_by_text("Scan to join").count() == 0
        other.context.close()

        # -- three phones join; one nickname is hostile markup
        names = ["Ana", "<i>Bo</i>", "Cy 🦴"]
        players: list[dict[str, Any]] = []
        for name in names:
            ctx = new_context(chromium, env, PHONE)
            page = ctx.new_page()
            frames = capture_frames(page)
            token = join_in_browser(page, server.url, session.join_code, name)
            players.append({"name": name, "ctx": ctx, "page": page, "frames": frames, "token": token})
        screenshot(players[1]["page"], "live_phone_waiting")
        host.get_by_text("Cy 🦴").wait_for(timeout=10000)  # the lobby fragment polls every 2 s
        assert host.get_by_text("<i>Bo</i>", exact=False).count() >= 1  # shown literally
        assert host.locator("i", has_text="Bo").count() == 0
        ana, bo, cy = (p["page"] for p in players)

        for qnum, spec in enumerate(EVERY_TYPE, start=1):
            qid, qtype = spec["id"], spec["type"]
            pins = qtype in PIN_TYPES or spec.get("mode") == "tap"
            picture = qtype == "identify" or spec.get("mode") == "name"
            host.get_by_role(
                "button", name="Start the first question" if qnum == 1 else "Next question"
            ).click()
            host.get_by_text("Time left").wait_for(timeout=20000)
            opened = [len(p["frames"]) for p in players]
            for p in players:
                p["page"].get_by_text(spec["prompt"]).wait_for(timeout=20000)
                if pins or picture:
                    wait_for_image(p["page"])

            # Before anyone answers: no player page holds the answer; nobody but the host has a chart.
            for p in players:
                assert p["page"].locator(PLOTLY).count() == 0
                assert target_leaks(page_text(p["page"]).encode(), x, y) == [], (qid, p["name"])
            if picture:
                # The question's own picture, on the phones and on the host: the highlighted
                # course (identify) or the shaded territory (name the nerve), nothing else.
                kind = "polyline" if qtype == "identify" else "polygon"
                for page in (ana, host):
                    wait_for_image(page)
                    wait_shapes(page, kind)
                    assert shapes(page) == {
                        "polyline": int(kind == "polyline"),
                        "polygon": int(kind == "polygon"),
                        "circle": 0,
                    }, (qid, shapes(page))
                screenshot(ana, f"live_phone_{qid}")
                screenshot(host, f"live_host_{qid}")
            if spec.get("choices"):
                shown = radio_labels(ana)
                assert sorted(shown) == sorted(c["text"] for c in spec["choices"])
                assert radio_labels(bo) == shown  # one order for the whole class...
                assert host_options(host, len(shown)) == shown  # ...and on the projector
                for i, p in enumerate(players):
                    blob = page_text(p["page"]).encode() + b"".join(p["frames"][opened[i] :])
                    assert [s for s in CHOICE_SECRETS if s.encode() in blob] == [], (qid, p["name"])
            if qnum == 1:
                screenshot(ana, "live_phone_question")

            # Ana answers right, Bo wrong; Cy plays the first question only (and reloads first).
            for page, answer in ((ana, right[qid]), (bo, wrong[qid])):
                if spec.get("choices"):
                    choose(page, answer)
                elif len(answer) == 1:
                    tap(page, *answer[0])
                else:
                    tap_pins(page, answer)
                submit(page)
            if qnum == 1:
                cy.reload()
                wait_idle(cy)
                wait_for_image(cy)
                assert cy.get_by_text("Cy 🦴 · class").count() == 1
                assert (
                    str(cy.evaluate("() => new URLSearchParams(location.search).get('token')"))
                    == players[2]["token"]
                )
                tap(cy, x + 3, y + 22)
                submit(cy)
                screenshot(cy, "live_phone_answer_received")
                # A reload after answering still says "received" and offers no second submit.
                cy.reload()
                cy.get_by_text("Answer received").wait_for(timeout=20000)
                assert cy.get_by_role("button", name="Submit", exact=True).count() == 0
            n_answers = 3 if qnum == 1 else 2
            host.get_by_text(f"{n_answers} / 3").wait_for(timeout=10000)

            if pins:
                # The host sees no pins until it peeks; the players never see any.
                host.get_by_text(f"{n_answers} answers · the pins stay hidden until the reveal").wait_for(
                    timeout=10000
                )
                assert host.locator(PLOTLY).count() == 0
                for i, p in enumerate(players[1:], start=1):
                    assert p["page"].locator(PLOTLY).count() == 0
                    leaks = target_leaks(
                        page_text(p["page"]).encode() + b"".join(p["frames"][opened[i] :]), x, y
                    )
                    assert leaks == [], (qid, p["name"], leaks)
            if qnum == 1:
                peek_then_full_screen(host, n_answers)

            host.get_by_role("button", name="Close now").click()
            host.get_by_role("button", name="Reveal the answer").click()
            host.get_by_text("Leaderboard").wait_for(timeout=20000)
            for p in players:
                p["page"].get_by_text("Your rank").wait_for(timeout=20000)

            # Scored on the server: Ana's answer beats Bo's; choice questions are all or nothing.
            got = {a.player_id: a.credit for a in store.list_answers(sid, qnum - 1)}
            by_name = {pl.nickname: pl.id for pl in store.list_players(sid)}
            assert got[by_name["Ana"]] > got[by_name["<i>Bo</i>"]], (qid, got)
            if qtype != "trace":
                assert got[by_name["Ana"]] == pytest.approx(1.0), (qid, got)
            if spec.get("choices"):
                assert got[by_name["<i>Bo</i>"]] == 0.0
                # The reveal lists the options where they were shown, the right ones marked.
                ana.get_by_text("right answer").first.wait_for(timeout=20000)
                assert ana.get_by_text("your answer").count() == len(right[qid])
                rows = host.locator('[data-testid="stTable"] tbody tr')
                rows.first.wait_for(timeout=20000)
                texts = [[c.strip() for c in row.locator("th, td").all_inner_texts()] for row in rows.all()]
                assert [r[0] for r in texts] == [str(i) for i in range(1, len(shown) + 1)], texts
                assert [r[1].replace("✓", "").strip() for r in texts] == shown, texts
                assert {r[1].replace("✓", "").strip() for r in texts if "✓" in r[1]} == set(right[qid])
                assert sum(int(r[2]) for r in texts) == len(right[qid]) + len(wrong[qid])
            else:
                ana.get_by_text("100%" if qtype != "trace" else "%").first.wait_for(timeout=20000)
            if picture:
                wait_shapes(host, "polyline" if qtype == "identify" else "polygon")
            if qnum > 1:
                cy.get_by_text("You did not answer this one.").wait_for(timeout=20000)
            if qnum == 1:
                assert host.get_by_text(re.compile(r"went 2\.\d cm too distal")).count() == 1
                screenshot(host, "live_host_reveal")
                assert ana.get_by_text("1 of 3", exact=True).count() == 1
                screenshot(bo, "live_phone_reveal")
                bo.get_by_text("2.0 cm").first.wait_for()
            if qid == "every_clinical_multi":
                screenshot(ana, "live_phone_choice_reveal")
                screenshot(host, "live_host_choice_reveal")

        host.get_by_role("button", name="Finish the class").click()
        host.get_by_text("Final results").wait_for(timeout=20000)
        with host.expect_download() as dl:
            host.get_by_role("button", name="Download every answer (CSV)").click()
        # UTF-8 with a BOM (utf-8-sig drops it); a row per player per question, answered or not.
        rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
        assert len(rows) == 3 * len(EVERY_TYPE)
        assert sum(r["answered"] == "yes" for r in rows) == 3 + 2 * (len(EVERY_TYPE) - 1)
        assert {r["nickname"] for r in rows} == set(names)
        screenshot(host, "live_host_final")
        ana.get_by_text("Class finished").wait_for(timeout=20000)
        screenshot(ana, "live_phone_final")
        # The phone can take the class home: the same questions start in Practice.
        ana.get_by_text("Practise these questions again").click()
        ana.get_by_text(f"Question 1 of {len(EVERY_TYPE)}").wait_for(timeout=20000)
        assert (
            f"questions={','.join(session.question_ids)}".replace(",", "%2C") in ana.url
            or f"questions={','.join(session.question_ids)}" in ana.url
        )
        for p in players:
            p["ctx"].close()
        hctx.close()
    except Exception:
        if locals().get("crashed"):
            print(f"browser pages crashed: {crashed}")
        if "host" in locals():
            try:
                print(
                    "host page at failure:",
                    host.url,
                    host.evaluate("() => document.body.innerText.slice(0, 300)"),
                )
            except Exception as exc:  # a crashed page cannot be read
                print("host page unreadable:", exc)
        for i, p in enumerate(locals().get("players", [])):
            screenshot(p["page"], f"live_failed_player_{i}")
        if "host" in locals():
            screenshot(host, "live_failed_host")
        raise
    finally:
        server.stop()


def peek_then_full_screen(host: Any, n_answers: int) -> None:
    """The host's peek shows the heatmap; going full screen hides it and switches the peek off."""
    toggle = (
        host.locator('[data-testid="stCheckbox"]')
        .filter(has_text="Peek at the class's pins")
        .locator("input")
    )
    host.get_by_text("Peek at the class's pins (your screen only)").click()
    host.get_by_text(f"Live heatmap · {n_answers} answers · visible to you only").wait_for(timeout=20000)
    host.locator(PLOTLY).first.wait_for(timeout=20000)
    screenshot(host, "live_host_heatmap")
    host.get_by_role("button", name="Full screen (projector)").click()
    host.wait_for_function("() => !!document.fullscreenElement", timeout=10000)
    host.get_by_text("Pins are hidden while this page is full screen.").wait_for(timeout=20000)
    host.wait_for_function(f"() => document.querySelectorAll('{PLOTLY}').length === 0", timeout=20000)
    assert toggle.is_disabled() and not toggle.is_checked()
    screenshot(host, "live_host_fullscreen")
    host.evaluate("() => document.exitFullscreen()")
    host.get_by_text("Pins are hidden while this page is full screen.").wait_for(
        state="detached", timeout=20000
    )
    wait_idle(host)
    # Leaving full screen does not bring the pins back: the host must choose to peek again.
    assert not toggle.is_checked() and host.locator(PLOTLY).count() == 0
    host.get_by_text(f"{n_answers} answers · the pins stay hidden until the reveal").wait_for(timeout=10000)
