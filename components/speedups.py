"""Cheaper turns: five patches to Rasa 3.6 internals, each measured first (docs/figures.md).

Rasa imports this module through ``components/tracker_store.py`` (every endpoints file
names that tracker store), which calls :func:`apply` once. Set ``RASA_SPEEDUPS=off`` to
run stock Rasa (the benchmark does, to compare both in one run). Each patch has a test in
``tests/test_speedups.py`` that fails without it.

1. **One compiled validator for action server responses.** ``RemoteAction.
   _validate_action_result`` called ``jsonschema.validate`` on every action call, which
   checks the schema itself and builds a new validator each time: 24-30% of a Rasa
   server's CPU at 20 conversations at once (py-spy). The schema never changes, so it is
   checked once and the validator kept. Invalid responses still raise the same error.
2. **One HTTP session for the action server, and one retry on a connection error.**
   ``EndpointConfig.request`` opened a new ``aiohttp.ClientSession`` (and TCP connection)
   for every call; at 40 conversations at once calls failed with "Cannot write to closing
   transport" and Rasa carried on without their results. Here each endpoint keeps one
   pooled session per event loop (keep-alive connections), and a request that failed to
   connect or lost its connection before an answer is sent once more (our actions are
   idempotent: cases and feedback are keyed by the message id).
3. **The action server gets only what it needs.** Rasa sends the whole tracker (every
   event since the conversation began) on every action call, so a late turn cost over
   twice a first one. The state (slots, latest message, active loop) is sent whole, but
   the events only from the person's second-to-last message on: enough for
   ``tracker.get_latest_input_channel``, form validation and "read it to me" (the last
   answer). The domain goes only to actions marked ``send_domain`` in ``domain.yml``
   (Rasa's own ``enable_selective_domain``, switched on in the endpoints files).
4. **No TED prediction that cannot win.** Every prediction ran RulePolicy, Memoization
   and TED. When Rules or Memoization predict with confidence 1.0, TED (lowest priority,
   confidence at most 1.0, no end-to-end text features in this model) cannot be picked,
   so the cheap policies run first and TED only when none of them is certain. The pick is
   Rasa's own ensemble's, so the chosen action is the same.
5. **A turn loads only what it needs.** Turns read their tracker with the tracker store's
   ``retrieve_recent`` (recent turns whole, earlier ones folded into slot values; see
   ``components/tracker_store.py``), so a late turn replays and featurises as few events
   as an early one. Every other reader still gets the whole session.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, cast

log = logging.getLogger(__name__)
_applied = False
RECENT_USER_TURNS = 2
stock_predict: Any = None  # Rasa's own prediction, kept for the tests


def enabled() -> bool:
    return os.environ.get("RASA_SPEEDUPS", "on").strip().lower() not in ("off", "0", "false")


def apply() -> bool:
    """Install every patch once; False when ``RASA_SPEEDUPS=off``."""
    global _applied
    if _applied:
        return True
    if not enabled():
        log.info("RASA_SPEEDUPS=off: running stock Rasa")
        return False
    patch_validator()
    patch_endpoint_sessions()
    patch_action_payload()
    patch_policy_prediction()
    patch_turn_tracker()
    _applied = True
    return True


# -- 1. the action response validator ------------------------------------------------


def patch_validator() -> None:
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = _validate_action_result


# -- 2. pooled sessions and one retry ----------------------------------------------------

RETRYABLE: tuple[type[BaseException], ...] = ()


def patch_endpoint_sessions() -> None:
    import aiohttp
    from rasa.utils import endpoints as rasa_endpoints

    global RETRYABLE
    # Failures where the action server cannot have run the request: no connection, or a
    # kept-alive connection closed under us before any answer.
    RETRYABLE = (
        aiohttp.ClientConnectorError,
        aiohttp.ServerDisconnectedError,
        aiohttp.ClientOSError,
    )

    def pooled(self: Any) -> aiohttp.ClientSession:
        """This endpoint's session on the running loop, made on first use."""
        loop = asyncio.get_running_loop()
        session = getattr(self, "_pooled_session", None)
        if session is None or session.closed or getattr(self, "_pooled_loop", None) is not loop:
            auth = None
            if self.basic_auth:
                auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            session = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=rasa_endpoints.DEFAULT_REQUEST_TIMEOUT),
                # Keep connections open, but drop idle ones before the server does (5 s).
                connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=4),
            )
            self._pooled_session, self._pooled_loop = session, loop
        return session

    class Borrowed:
        """What ``async with endpoint.session()`` gets: the pooled session, left open."""

        def __init__(self, session: aiohttp.ClientSession) -> None:
            self.session = session

        async def __aenter__(self) -> aiohttp.ClientSession:
            return self.session

        async def __aexit__(self, *exc: object) -> None:
            return None

    original_request = rasa_endpoints.EndpointConfig.request

    async def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original_request(self, *args, **dict(kwargs))
        except RETRYABLE as exc:
            log.warning("action server connection failed (%s); trying once more", exc)
            return await original_request(self, *args, **kwargs)

    rasa_endpoints.EndpointConfig.session = lambda self: Borrowed(pooled(self))
    rasa_endpoints.EndpointConfig.request = request


# -- 3. a small action call ------------------------------------------------------------


def recent_events(events: list[Any], user_turns: int = RECENT_USER_TURNS) -> list[Any]:
    """The events from the ``user_turns``-th last user message on (all if fewer)."""
    from rasa.shared.core.events import UserUttered

    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            seen += 1
            if seen == user_turns:
                return events[index:]
    return events


def patch_action_payload() -> None:
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity

    def _action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
        state = tracker.current_state(EventVerbosity.NONE)
        state["events"] = [e.as_dict() for e in recent_events(list(tracker.events))]
        result: dict[str, Any] = {
            "next_action": self._name,
            "sender_id": tracker.sender_id,
            "tracker": state,
            "version": rasa.__version__,
        }
        if not self._is_selective_domain_enabled() or (
            domain.does_custom_action_explicitly_need_domain(self.name())
        ):
            result["domain"] = _domain_dict(domain)
        return result

    RemoteAction._action_call_format = _action_call_format


def _domain_dict(domain: Any) -> dict[str, Any]:
    """``domain.as_dict()``, made once per domain object (it is rebuilt on every call)."""
    cached = getattr(domain, "_speedups_as_dict", None)
    if cached is None:
        cached = domain.as_dict()
        domain._speedups_as_dict = cached
    return cached


# -- 4. TED only when it can win ---------------------------------------------------------


def patch_policy_prediction() -> None:
    from rasa.core.processor import MessageProcessor

    global stock_predict
    original = stock_predict = MessageProcessor._predict_next_with_tracker

    def _predict_next_with_tracker(self: Any, tracker: Any) -> Any:
        plan = _plan(self)
        if plan is None or tracker.followup_action:
            return original(self, tracker)
        from rasa.engine.constants import PLACEHOLDER_TRACKER

        ensemble, policies, teds, domain_node = plan
        inputs = {PLACEHOLDER_TRACKER: tracker}
        cheap = [n for n in policies if n not in teds]
        results = self.graph_runner.run(inputs=inputs, targets=[*cheap, domain_node])
        if not any(_certain(results[n]) for n in cheap):
            results.update(self.graph_runner.run(inputs=inputs, targets=teds))
        predictions = [results[n] for n in policies if n in results]
        return ensemble.combine_predictions(predictions, tracker, results[domain_node])

    MessageProcessor._predict_next_with_tracker = _predict_next_with_tracker


def _certain(prediction: Any) -> bool:
    return float(prediction.max_confidence) >= 1.0


def _plan(processor: Any) -> tuple[Any, list[str], list[str], str] | None:
    """(ensemble, policy nodes in order, TED nodes, domain node) if TED may be skipped."""
    cached: Any = getattr(processor, "_speedups_plan", False)
    if cached is not False:
        return cast("tuple[Any, list[str], list[str], str] | None", cached)
    plan = None
    try:
        from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
        from rasa.core.policies.ted_policy import TEDPolicy
        from rasa.shared.nlu.constants import TEXT

        runner = processor.graph_runner
        target = processor.model_metadata.core_target
        schema = runner._graph_schema.nodes
        nodes = runner._instantiated_nodes
        ensemble = nodes[target]._component
        needs = schema[target].needs
        policies = [n for key, n in needs.items() if key.startswith("policy")]
        teds = [n for n in policies if issubclass(schema[n].uses, TEDPolicy)]
        safe = (
            type(ensemble) is DefaultPolicyPredictionEnsemble
            and "domain" in needs
            and teds
            and len(teds) < len(policies)
            and all(
                not nodes[n]._component.only_e2e
                and TEXT not in (nodes[n]._component.fake_features or {})
                for n in teds
            )
        )
        if safe:
            plan = (ensemble, policies, teds, needs["domain"])
    except Exception:  # another graph shape: predict as Rasa does
        log.warning("policy graph not recognised: TED runs on every prediction")
        plan = None
    processor._speedups_plan = plan
    return plan


# -- 5. a turn reads only what it needs ----------------------------------------------------


def patch_turn_tracker() -> None:
    """Turns load their tracker with ``retrieve_recent`` when the tracker store has it."""
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.fetch_tracker_and_update_session

    async def fetch_tracker_and_update_session(
        self: Any, sender_id: str, output_channel: Any = None, metadata: Any = None
    ) -> Any:
        store = getattr(self.tracker_store, "_tracker_store", self.tracker_store)  # FailSafe
        recent = getattr(store, "retrieve_recent", None)
        if recent is None:
            return await original(self, sender_id, output_channel, metadata)
        try:
            tracker = await recent(sender_id or "default")
        except Exception:  # the whole read, with Rasa's own handling of a failing store
            log.exception("recent tracker read failed; reading the whole session")
            return await original(self, sender_id, output_channel, metadata)
        if tracker is None:
            tracker = await self.tracker_store.create_tracker(sender_id, append_action_listen=False)
        tracker.model_id = self.model_metadata.model_id
        if tracker.assistant_id is None:
            tracker.assistant_id = self.model_metadata.assistant_id
        await self._update_tracker_session(tracker, output_channel, metadata)
        return tracker

    MessageProcessor.fetch_tracker_and_update_session = fetch_tracker_and_update_session
