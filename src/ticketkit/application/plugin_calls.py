"""Plugin calls with a timeout, for calls made in a caller's thread: each runs on a thread of
its own, and the caller waits at most the timeout for it (see ``PluginCalls``)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

import attrs

log = logging.getLogger("ticketkit.notifications")


@attrs.define(eq=False)
class _Call:
    """One plugin call handed to a call thread; the fields after ``fn`` change under the
    ``PluginCalls`` lock."""

    plugin: str
    fn: Callable[[], None]
    done: threading.Event = attrs.field(factory=threading.Event)
    error: BaseException | None = None
    finished: bool = False
    given_up: bool = False


@attrs.frozen(eq=False)
class _CallThread:
    """A thread that makes plugin calls, and where to hand it the next one."""

    inbox: queue.SimpleQueue[_Call | None]
    thread: threading.Thread


@attrs.define
class PluginCalls:
    """Runs plugin calls on threads of their own and waits at most ``timeout`` seconds
    for each: a call that takes longer is given up, which is a failure of that attempt.

    Python cannot stop a thread: a call given up runs on until the plugin returns, and its
    result is ignored (the attempt is already recorded failed and will be retried). While a
    plugin has such a call running, further calls to it fail at once instead of taking
    another thread, so a hung plugin holds at most one thread and no caller for longer than
    ``timeout``. Idle threads end after ``idle_exit`` seconds.
    """

    timeout: float
    idle_exit: float = 10.0
    _idle: list[_CallThread] = attrs.field(factory=list, init=False)
    _hung: dict[str, int] = attrs.field(factory=dict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def __call__(self, plugin: str, fn: Callable[[], None]) -> None:
        """Call ``fn`` (a call to ``plugin``); raise what it raised, or ``TimeoutError``."""
        call = _Call(plugin=plugin, fn=fn)
        with self._lock:
            self._raise_if_hung(plugin)
            caller = self._idle.pop() if self._idle else self._start_thread()
        caller.inbox.put(call)
        if not call.done.wait(self.timeout):
            with self._lock:
                if not call.finished:
                    call.given_up = True
                    self._hung[plugin] = self._hung.get(plugin, 0) + 1
                    raise TimeoutError(f"no answer within {self.timeout:g} s")
        if call.error is not None:
            raise call.error

    def check(self, plugin: str) -> None:
        """Raise ``TimeoutError`` while ``plugin`` has a call given up still running."""
        with self._lock:
            self._raise_if_hung(plugin)

    def hung(self, plugin: str, *, by: int) -> None:
        """Count a call to ``plugin`` given up (``by=1``) or returned after that (``-1``)
        elsewhere: the delivery thread's own calls (``Dispatcher``) share this count."""
        with self._lock:
            self._hung[plugin] = self._hung.get(plugin, 0) + by

    def _raise_if_hung(self, plugin: str) -> None:
        if self._hung.get(plugin):
            raise TimeoutError(
                f"still busy with a call given up after {self.timeout:g} s; not called"
            )

    def close(self) -> None:
        """End the idle threads (a hung call's thread ends when its plugin returns)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for caller in idle:
            caller.inbox.put(None)
        for caller in idle:
            caller.thread.join()

    def _start_thread(self) -> _CallThread:
        inbox: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        caller = _CallThread(
            inbox,
            threading.Thread(
                target=self._serve, args=(inbox,), name="ticketkit-plugin-call", daemon=True
            ),
        )
        caller.thread.start()
        return caller

    def _serve(self, inbox: queue.SimpleQueue[_Call | None]) -> None:
        while True:
            try:
                call = inbox.get(timeout=self.idle_exit)
            except queue.Empty:
                with self._lock:
                    mine = [c for c in self._idle if c.inbox is inbox]
                    if mine:
                        self._idle.remove(mine[0])
                        return
                continue  # taken by a caller just now: its call is on the way
            if call is None:
                return
            try:
                call.fn()
            except BaseException as exc:  # the plugin's failure, reported to the caller
                call.error = exc
            with self._lock:
                call.finished = True
                if call.given_up:
                    self._hung[call.plugin] -= 1
                    log.warning(
                        "notifier %s returned after its attempt was given up (%s)",
                        call.plugin,
                        "failed" if call.error is not None else "succeeded",
                    )
                self._idle.append(_CallThread(inbox, threading.current_thread()))
            call.done.set()


__all__ = ["PluginCalls"]
