"""Group commit: the attempts of many concurrent calls recorded in one store transaction.

A server that answers many routed calls at once (the MCP gateway) would otherwise spend one store
transaction per attempt. With an ``AttemptGroup``, each call's attempts are checked the moment they
end (``ToolMetaLearner.check_attempt``: an outcome the router cannot take fails there, as without a
group) and wait in the group; ``commit()`` appends everything waiting in one transaction, then the
router learns it, in the order the attempts ended.

The guarantee of a routed call stays: an attempt is committed before its result is used. The
group's owner keeps it by committing before it lets out any answer of a call in the group (the
gateway commits once per pass of its event loop, just before that pass's answers are written). A
commit that fails (the store's error) records none of its attempts, and the calls they belong to
are told: ``GroupMember.error`` is that error, so the owner answers them with it instead of a
result whose attempts are not in the store. An attempt the router refuses at the commit, though
it took it when queued (its step's route made since for another capability, by a call outside the
group; an attempt recorded already; a step its trace cannot take after the attempts before it, of
the group or recorded since), fails its call alone: none of that call's attempts is
recorded, its ``GroupMember.error`` is the refusal (a ``ValueError``), and the other calls' are.

Example:
    >>> from toolrouter import ToolMiddleware
    >>> tools = ToolMiddleware(seed=0)
    >>> @tools.tool("echo")
    ... def echo(text: str) -> str:
    ...     return text
    >>> group = AttemptGroup(tools.learner)
    >>> member = group.join()
    >>> tools.route("echo", group=member).run("hi").value
    'hi'
    >>> len(group), group.commit(), len(group)
    (1, 1, 0)
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from toolrouter.attempts import check_callback, describe_error
from toolrouter.learner import PendingAttempt, ToolMetaLearner
from toolrouter.logging import EventLog

__all__ = ["AttemptGroup", "GroupMember"]

log = EventLog(__name__)


class GroupMember:
    """One call's share of an ``AttemptGroup`` (``AttemptGroup.join``): pass it to
    ``ToolMiddleware.route(..., group=...)``.

    ``error`` is ``None`` unless a commit that held one of this call's attempts failed: then it is
    the store's exception, or the router's refusal of one of them, and those attempts were
    neither stored nor learned.
    """

    __slots__ = ("group", "error")

    def __init__(self, group: AttemptGroup) -> None:
        self.group = group
        self.error: BaseException | None = None

    def add(self, pending: PendingAttempt) -> None:
        """Queue a checked attempt of this call for the group's next commit. An attempt that is
        not a ``PendingAttempt``, is recorded already or waits in the group already, was checked
        by another router, or is at a step whose route serves another capability (made since it
        was checked, or by an attempt waiting here) raises here (``TypeError``, ``ValueError``),
        where its call fails at once, not at the commit."""
        self.group._add(pending, self)


class AttemptGroup:
    """Checked attempts of many calls, recorded together by ``commit()`` (see the module docstring).

    Arguments:
        learner: the router that records them.
        on_pending: called, in the thread that queued it, when an attempt is queued into an empty
            group: the owner's cue to schedule a commit (the gateway's: at the end of the event
            loop's pass); a plain function (an ``async def`` one is refused: it would never be
            awaited). It runs with the group held. If it raises, the attempt is not queued and
            the call raises its error, as for an attempt refused here: the attempt is not
            recorded (a call that failed would otherwise be learned all the same), and the next
            attempt queued cues again. A cue that committed the attempt before it raised (an
            ``Exception``) recorded it: the error is logged (``group_cue_failed``) and the call
            goes on with that outcome.

    Closing the router (``ToolMetaLearner.close``, which a ``ToolMiddleware`` that built it calls)
    commits what waits, once the calls in flight have ended; an attempt queued after it is
    refused (``ValueError``).

    Thread-safe: calls in several threads may queue, and any thread may commit. Commits are
    learned in turn, and an attempt queued while one writes waits for it (queuing checks an
    attempt against what the router learned, which the commit is changing).
    """

    def __init__(self, learner: ToolMetaLearner, on_pending: Callable[[], None] | None = None) -> None:
        if not isinstance(learner, ToolMetaLearner):
            raise TypeError(f"learner: expected a ToolMetaLearner, got {learner!r:.100}")
        if on_pending is not None and not callable(on_pending):
            # it failed in the first call queued, after that call's attempt was queued: the call
            # raised, and its attempt was recorded at the next commit all the same
            raise TypeError(f"on_pending: expected a callable or None, got {on_pending!r:.100}")
        check_callback("on_pending", on_pending)  # an async one never scheduled a commit
        self.learner = learner
        self._on_pending = on_pending
        self._pending: list[PendingAttempt] = []
        self._members: list[GroupMember] = []  # the call of each pending attempt
        self._at_step: dict[tuple[str, str], list[PendingAttempt]] = {}  # the pending ones by (task type, step)
        self._queued: set[int] = set()  # ids of the attempts pending or being committed (each held)
        # reentrant: on_pending runs under it, and may commit
        self._lock = threading.RLock()
        with learner._lock:
            learner._groups.add(self)  # its close commits what waits here

    def join(self) -> GroupMember:
        """A member for one more call."""
        return GroupMember(self)

    def __len__(self) -> int:
        """How many attempts wait for the next commit."""
        return len(self._pending)

    def __repr__(self) -> str:
        return f"AttemptGroup({self.learner!r}, {len(self._pending)} waiting)"

    def _add(self, pending: PendingAttempt, member: GroupMember) -> None:
        if not isinstance(pending, PendingAttempt):
            raise TypeError(f"pending: expected a PendingAttempt from check_attempt, got {pending!r:.100}")
        with self._lock:
            if self.learner.closed:  # the commit could not record it
                raise self.learner._refused()
            if pending._recorded or id(pending) in self._queued:
                raise ValueError("pending: this attempt is already recorded or queued; a PendingAttempt is recorded once")
            # refused now, not at the commit, where it would fail the other calls' attempts too
            at_step = self._at_step.setdefault((pending.task_type, pending._outcome.step), [])
            with self.learner._lock:
                earlier = self._deciding(at_step)
                self.learner._check_pending([*earlier, pending], len(earlier), "pending")
            first = not self._pending
            self._pending.append(pending)
            self._members.append(member)
            at_step.append(pending)
            self._queued.add(id(pending))
            if first and self._on_pending is not None:
                # under the lock: no commit takes the attempt before the cue is known to be given
                try:
                    self._on_pending()
                except BaseException as exc:
                    if pending._recorded and isinstance(exc, Exception):
                        # the cue committed it before it raised: stored and learned, so its call
                        # goes on with the outcome (failing it would lose a recorded result)
                        log.warning("group_cue_failed", error=describe_error(exc))
                        return
                    if self._pending and self._pending[-1] is pending:  # not committed by the cue itself
                        self._pending, self._members, self._at_step = [], [], {}
                        self._queued.discard(id(pending))
                    raise

    def _deciding(self, at_step: list[PendingAttempt]) -> list[PendingAttempt]:
        """Of the attempts waiting at a step, those that decide the capability its route will
        serve (both locks held): none where it has a route, else those up to the first that makes
        it. The others change nothing, and checking each new attempt against every one waiting
        cost a batch of n attempts n * n / 2 reads (0.6 s for 4000)."""
        learner = self.learner
        if not at_step or (at_step[0].task_type, at_step[0]._outcome.step) in learner._routes:
            return []
        for i, p in enumerate(at_step):
            o = p._outcome
            if learner._makes_route(o.result.tool_id, o.capability, o.result.success, o.result.error):
                return at_step[: i + 1]
        return at_step

    def commit(self) -> int:
        """Record what waits, in one store transaction; returns how many attempts. A call with an
        attempt the router refuses now is left out alone (see the module docstring): its
        ``GroupMember.error`` is the refusal. When the store fails, none of them is recorded, each
        of their calls' ``GroupMember.error`` is set to the error, and it is raised."""
        # held while the store writes: an attempt queued meanwhile (another thread's call) is
        # checked against this batch once it is learned, and no other commit's batch is learned
        # before it (one that made a route for another capability first refused this one whole)
        with self._lock:
            pending, self._pending = self._pending, []
            members, self._members = self._members, []
            self._at_step = {}
            if not pending:
                return 0
            try:
                return self._record(pending, members)
            finally:
                # held as queued until recorded (or refused, free to queue again): queued anew while
                # the store writes them, one would be recorded twice, and the next commit refused whole
                self._queued.difference_update(id(p) for p in pending)

    def _record(self, pending: list[PendingAttempt], members: list[GroupMember]) -> int:
        """``commit`` of the attempts it took (the group held)."""
        with self.learner._lock:  # nothing learned between the checks and the write
            # refused since it was queued (a route made for another capability by a call outside
            # the group, an attempt recorded already, a step its trace cannot take): it would fail
            # the whole batch
            errors: dict[int, ValueError] = {}
            self.learner._check_pending(pending, refused=errors)
            refused: dict[GroupMember, ValueError] = {}
            for i, error in errors.items():
                refused.setdefault(members[i], error)
            for member, error in refused.items():
                member.error = error
                log.warning("group_call_refused", error=describe_error(error))
            kept = [p for p, member in zip(pending, members) if member not in refused]
            try:
                self.learner.record_attempts(kept)
            except BaseException as exc:
                for member in members:
                    if member not in refused:
                        member.error = exc
                log.warning("group_commit_failed", attempts=len(kept), error=describe_error(exc))
                raise
        return len(kept)
