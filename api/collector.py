"""Python's cycle collector in a server worker: what the worker holds for its whole life is left out of
its passes, and young passes run less often.

A started worker holds some 150,000 objects that live as long as it does (the schema, the ORM's models,
the search dictionaries' tables); every full pass of the collector walked them all again, about 90 ms
each on the bench machine. And with Python's default of a young pass every 700 new container objects, a
feed page (some 20,000 of them) started about four passes while its own objects were still in use, so
they were walked, promoted and walked again. Measured on the following feed in process (350 requests,
timed with `gc.callbacks`): 2.6 ms of collection per request with the defaults; 0.8 ms with the start-up
heap frozen and a young pass every 10,000.

A request's objects are freed as soon as it ends without any pass (its executor and loaders let go of
what they hold: schema.execution, schema.loaders.Loaders.release), so a larger young generation holds
little more memory.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def settle(threshold: int) -> None:
    """Once the worker has started: collect, freeze what survives (gc.freeze: never walked again), and
    start a young pass every `threshold` new container objects (0: Python's default)."""
    gc.collect()
    gc.freeze()
    if threshold:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)
    log.debug("collector: %d objects frozen, thresholds %s", gc.get_freeze_count(), gc.get_threshold())
