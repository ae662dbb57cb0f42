"""Bounded hand-over queue between sources and the aggregation worker.

Bounded on purpose: when the worker holds back (buffer full, sink lagging) the queue fills and
sources block in ``put`` - the MQTT client stops reading its socket and stops acknowledging, so
the broker keeps the data; that is the backpressure path.
"""
import queue


class Inbox:
    def __init__(self, max_deliveries=20000):
        self._queue = queue.Queue(max_deliveries)

    def put(self, delivery, stop_event=None):
        """Block until there is room; give up (returning False) only if ``stop_event`` is set."""
        while True:
            try:
                self._queue.put(delivery, timeout=0.2)
                return True
            except queue.Full:
                if stop_event is not None and stop_event.is_set():
                    return False

    def offer(self, delivery, timeout):
        """Put if there is room within ``timeout``; False if not (the caller may do other work)."""
        try:
            self._queue.put(delivery, timeout=timeout)
            return True
        except queue.Full:
            return False

    def take(self, max_items, timeout):
        """Up to ``max_items`` deliveries, waiting at most ``timeout`` for the first one."""
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        items = [first]
        get = self._queue.get_nowait
        try:
            while len(items) < max_items:
                items.append(get())
        except queue.Empty:
            pass
        return items

    def empty(self):
        return self._queue.empty()

    def qsize(self):
        return self._queue.qsize()
