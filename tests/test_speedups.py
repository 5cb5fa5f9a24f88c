"""Each patch in components/speedups.py and the tracker store's single write, checked
against the behaviour it replaces: every test here fails on stock Rasa 3.6."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import event

import components.tracker_store  # noqa: F401 (installs the patches, as Rasa's import does)
from components import speedups
from components.tracker_store import ErasingSQLTrackerStore
from scripts.servers import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def test_the_patches_are_installed_by_importing_the_tracker_store():
    assert speedups._applied


# -- 1. the validator ------------------------------------------------------------------


def test_action_responses_are_validated_without_checking_the_schema_each_time(monkeypatch):
    from jsonschema.validators import validator_for

    cls = validator_for(RemoteAction.action_response_format_spec())
    checks = []
    monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, s: checks.append(s)))
    action = RemoteAction("action_signpost", None)
    good = {"events": [{"event": "slot", "name": "age", "value": "5"}], "responses": []}
    for _ in range(50):
        assert action._validate_action_result(good) is True
    assert checks == []  # jsonschema.validate would have checked the schema 50 times
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "no-such-event"}]})


# -- 2. one session, one retry -----------------------------------------------------------


async def _serve(handler) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_post("/webhook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


def test_action_calls_share_one_kept_alive_connection():
    async def scenario() -> set[int]:
        peers: set[int] = set()

        async def handler(request: web.Request) -> web.Response:
            peers.add(request.transport.get_extra_info("peername")[1])
            return web.json_response({"events": [], "responses": []})

        runner, port = await _serve(handler)
        try:
            endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
            for _ in range(20):
                assert await endpoint.request(json={"next_action": "x"}, method="post") == {
                    "events": [],
                    "responses": [],
                }
        finally:
            await endpoint._pooled_session.close()
            await runner.cleanup()
        return peers

    # Stock Rasa opens a session and a connection per call: 20 client ports.
    assert len(asyncio.run(scenario())) == 1


def test_a_dropped_connection_is_tried_once_more():
    async def scenario() -> tuple[object, int]:
        calls = 0

        async def handler(request: web.Request) -> web.Response:
            nonlocal calls
            calls += 1
            if calls == 1:  # the server goes away before answering
                request.transport.close()
                await asyncio.sleep(0.1)
            return web.json_response({"events": [], "responses": []})

        runner, port = await _serve(handler)
        try:
            endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
            answer = await endpoint.request(json={"next_action": "x"}, method="post")
        finally:
            await endpoint._pooled_session.close()
            await runner.cleanup()
        return answer, calls

    assert asyncio.run(scenario()) == ({"events": [], "responses": []}, 2)


# -- 3. a small action call --------------------------------------------------------------


def _long_conversation(turns: int, early: tuple = ()) -> DialogueStateTracker:
    started = SessionStarted()
    for happened in early:  # after the session start, as a real turn would be
        happened.timestamp = started.timestamp + 0.001
    events = [
        ActionExecuted("action_session_start"), started, *early,
        ActionExecuted("action_listen"),
    ]  # fmt: skip
    for n in range(turns):
        events += [
            UserUttered(f"message {n}", {"name": "greet", "confidence": 1.0}),
            ActionExecuted("action_greet"),
            BotUttered(f"answer {n}"),
            SlotSet("age", str(n)),
            ActionExecuted("action_listen"),
        ]
    events += [UserUttered("read it to me", {"name": "read_aloud", "confidence": 1.0})]
    return DialogueStateTracker.from_events("long", events, slots=DOMAIN.slots)


def test_the_action_server_gets_the_state_and_only_the_last_two_turns():
    tracker = _long_conversation(60)
    endpoint = EndpointConfig("http://127.0.0.1:1/webhook", enable_selective_domain=True)
    body = RemoteAction("action_read_aloud", endpoint)._action_call_format(tracker, DOMAIN)
    sent = body["tracker"]["events"]
    assert [e["event"] for e in sent] == ["user", "action", "bot", "slot", "action", "user"]
    assert sent[2]["text"] == "answer 59"  # what "read it to me" reads again
    assert body["tracker"]["slots"]["age"] == "59"
    assert body["tracker"]["latest_message"]["text"] == "read it to me"
    assert "domain" not in body  # only actions marked send_domain get it
    form = RemoteAction("validate_feedback_form", endpoint)._action_call_format(tracker, DOMAIN)
    assert form["domain"]["forms"]["feedback_form"]["required_slots"][0] == "feedback_service"
    assert len(json.dumps(body)) < 5000


def test_a_short_conversation_is_sent_whole():
    tracker = _long_conversation(0)
    body = RemoteAction("action_greet", None)._action_call_format(tracker, DOMAIN)
    assert len(body["tracker"]["events"]) == 4


# -- 4. TED only when it can win ---------------------------------------------------------


@pytest.fixture(scope="module")
def processor():
    if not DEFAULT_MODEL.is_file():
        pytest.fail("no trained model: run `make train` (make test does)")
    from rasa.core.agent import Agent

    return Agent.load(str(DEFAULT_MODEL)).processor


@pytest.mark.e2e
def test_ted_is_skipped_only_when_it_cannot_change_the_prediction(monkeypatch, processor):
    from rasa.core.channels import UserMessage
    from rasa.core.policies.ted_policy import TEDPolicy

    ted_runs: list[int] = []
    original_ted = TEDPolicy.predict_action_probabilities

    def counting(self, *args, **kwargs):
        ted_runs.append(1)
        return original_ted(self, *args, **kwargs)

    monkeypatch.setattr(TEDPolicy, "predict_action_probabilities", counting)
    texts = (
        "hi", "who helps with school transport", "more options", "I want to give feedback",
        "stop", "yes", "no", "thanks", "blorp zzk", "the taxi did not come again", "menu",
        "privacy",
    )  # fmt: skip

    async def conversation() -> tuple[int, int]:
        tracker = await processor.get_tracker("ted-check")
        predictions = fast_ted = 0
        for text in texts:
            parsed = await processor.parse_message(UserMessage(text))
            tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parsed))
            for _ in range(4):
                ted_runs.clear()
                fast = processor._predict_next_with_tracker(tracker)
                fast_ted += len(ted_runs)
                stock = speedups.stock_predict(processor, tracker)
                assert (fast.max_confidence_index, fast.policy_name, fast.events) == (
                    stock.max_confidence_index, stock.policy_name, stock.events,
                ), text  # fmt: skip
                predictions += 1
                name = DOMAIN.action_names_or_texts[fast.max_confidence_index]
                tracker.update(ActionExecuted(name))
                if name == "action_listen":
                    break
        return predictions, fast_ted

    predictions, fast_ted = asyncio.run(conversation())
    assert predictions >= 2 * len(texts)
    # Stock Rasa runs TED for every prediction; here only where no rule is certain.
    assert fast_ted < predictions / 2


# -- the tracker store: one write, nothing lost --------------------------------------------


def _store(tmp_path: Path) -> ErasingSQLTrackerStore:
    return ErasingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))


def test_a_save_appends_the_new_events_in_one_statement_without_counting(tmp_path):
    store = _store(tmp_path)
    asyncio.run(store.save(_long_conversation(3)))
    tracker = asyncio.run(store.retrieve("long"))
    tracker.update(UserUttered("more", {"name": "more_options", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_listen"))
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    asyncio.run(store.save(tracker))
    assert [s.split()[0] for s in statements] == ["INSERT"]  # stock Rasa: SELECT count x2
    stored = asyncio.run(store.retrieve("long"))
    assert [e.as_dict()["event"] for e in stored.events][-2:] == ["user", "action"]
    assert len(stored.events) == len(tracker.events)


def test_two_stale_copies_of_a_tracker_both_keep_their_turns(tmp_path):
    """If two servers ever ran one conversation at once, neither turn would be dropped."""
    store = _store(tmp_path)
    asyncio.run(store.save(_long_conversation(1)))
    first = asyncio.run(store.retrieve("long"))
    second = asyncio.run(store.retrieve("long"))
    for tracker, text in ((first, "first tap"), (second, "second tap")):
        tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
        tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(first))
    asyncio.run(store.save(second))  # stock Rasa counts 2 more stored and skips "second tap"
    stored = asyncio.run(store.retrieve("long")).events
    users = [e.text for e in stored if isinstance(e, UserUttered)]
    assert users[-2:] == ["first tap", "second tap"]


def test_erasure_still_removes_the_whole_conversation(tmp_path):
    store = _store(tmp_path)
    asyncio.run(store.save(_long_conversation(2)))
    tracker = asyncio.run(store.retrieve("long"))
    tracker.update(SlotSet("erasure", "done"))
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("long")) is None


# -- 5. a turn reads only what it needs ----------------------------------------------------


def test_a_late_turn_reads_the_last_six_turns_and_the_slots_before_them(tmp_path):
    store = _store(tmp_path)
    # "read_aloud" is set once, long before the cut; "age" changes every turn.
    asyncio.run(store.save(_long_conversation(60, early=(SlotSet("read_aloud", True),))))
    whole = asyncio.run(store.retrieve("long"))
    recent = asyncio.run(store.retrieve_recent("long"))
    users = [e.text for e in recent.events if isinstance(e, UserUttered)]
    assert users == [f"message {n}" for n in range(55, 60)] + ["read it to me"]
    assert recent.current_slot_values() == whole.current_slot_values()
    assert recent.get_slot("read_aloud") is True and recent.get_slot("age") == "59"
    assert recent.latest_message.text == whole.latest_message.text
    assert len(recent.events) < len(whole.events) / 5
    # A turn saved from it appends only its own events, once.
    recent.update(ActionExecuted("action_read_aloud"))
    recent.update(BotUttered("answer 59"))
    recent.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(recent))
    after = asyncio.run(store.retrieve("long"))
    assert len(after.events) == len(whole.events) + 3
    assert [e.as_dict()["event"] for e in after.events][-4:] == ["user", "action", "bot", "action"]


@pytest.mark.parametrize("early_event", [Restarted(), ActiveLoop("feedback_form")])
def test_a_session_with_more_than_slots_before_the_cut_is_read_whole(tmp_path, early_event):
    store = _store(tmp_path)
    asyncio.run(store.save(_long_conversation(20, early=(early_event,))))
    recent = asyncio.run(store.retrieve_recent("long"))
    whole = asyncio.run(store.retrieve("long"))
    assert len(recent.events) == len(whole.events)


def test_a_short_session_is_read_whole(tmp_path):
    store = _store(tmp_path)
    asyncio.run(store.save(_long_conversation(3)))
    assert len(asyncio.run(store.retrieve_recent("long")).events) == len(
        asyncio.run(store.retrieve("long")).events
    )


@pytest.mark.e2e
def test_policies_predict_the_same_from_the_recent_tracker(tmp_path, processor):
    from rasa.core.channels import UserMessage

    store = _store(tmp_path)
    texts = (
        "hi", "who helps with school transport", "more options", "thanks", "menu",
        "my son needs speech therapy", "talk to someone", "privacy", "yes", "no",
    )  # fmt: skip

    async def conversation() -> int:
        tracker = store.init_tracker("policies")
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        compared = 0
        for turn in range(30):
            text = texts[turn % len(texts)]
            await store.save(tracker)
            whole = await store.retrieve("policies")
            recent = await store.retrieve_recent("policies")
            parsed = await processor.parse_message(UserMessage(text))
            for copy in (whole, recent):
                copy.update(UserUttered(text, parsed["intent"], parsed["entities"], parsed))
            for _ in range(4):
                a = processor._predict_next_with_tracker(whole)
                b = processor._predict_next_with_tracker(recent)
                assert (a.max_confidence_index, a.policy_name) == (
                    b.max_confidence_index, b.policy_name,
                ), (turn, text)  # fmt: skip
                compared += 1
                name = DOMAIN.action_names_or_texts[a.max_confidence_index]
                whole.update(ActionExecuted(name))
                recent.update(ActionExecuted(name))
                if name == "action_listen":
                    break
            tracker = whole
        return compared

    assert asyncio.run(conversation()) >= 60
