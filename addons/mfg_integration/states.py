# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""States of an integration message, defined once for the core and every addon.

received -> validated -> mapped -> done; a technical error gives failed (retry scheduled
with the flow's backoff) and, after the flow's max attempts, dead (dead letter); a business
problem gives exception, which waits for an operator; an operator may cancel. The state
machine itself is described in docs/extending.md.

Addons use these names instead of writing the sets out again (the views' domains are the
only other place, XML cannot import them).
"""

RECEIVED = "received"
VALIDATED = "validated"
MAPPED = "mapped"
DONE = "done"
FAILED = "failed"
DEAD = "dead"
EXCEPTION = "exception"
CANCELLED = "cancelled"

STATES = [
    (RECEIVED, "Received"),
    (VALIDATED, "Validated"),
    (MAPPED, "Mapped"),
    (DONE, "Done"),
    (FAILED, "Failed (retry scheduled)"),
    (DEAD, "Dead letter"),
    (EXCEPTION, "Exception"),
    (CANCELLED, "Cancelled"),
]

# Started but not finished by the pipeline: a crash or a rate-limit deferral leaves them.
IN_PROGRESS_STATES = (RECEIVED, VALIDATED, MAPPED)
# States from which processing (re)starts; `failed` only when its retry is due. A message
# in one of them also holds back the later messages of its ordering key.
PROCESSABLE_STATES = IN_PROGRESS_STATES + (FAILED,)
# What an operator may requeue (attempts reset, processing from scratch).
REQUEUEABLE_STATES = (FAILED, DEAD, EXCEPTION, CANCELLED)
# Final: nothing happens to them any more except the retention purge.
FINAL_STATES = (DONE, CANCELLED)
# Went wrong, whether it is retried (failed) or waits for a person (dead, exception).
FAILURE_STATES = (FAILED, DEAD, EXCEPTION)
# Processed at least once (the dashboard's throughput).
PROCESSED_STATES = (DONE,) + FAILURE_STATES
# Everything still needing the pipeline or a person.
BACKLOG_STATES = PROCESSABLE_STATES + (DEAD, EXCEPTION)
