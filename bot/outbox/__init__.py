"""The outbox: every post, edit and customer message leaves through it, retried, paced and ordered.

``service.Dispatcher`` works the queue; ``batch_read`` reads a claimed batch at once;
``presenters`` build what a surface shows; ``outcomes`` record results, ``group_commit`` many to a
transaction; ``pacing`` and ``outages`` hold the per-destination pace and outage notices
(``tell_once``: a notice told once across instances under a lease, as refusal notices are too);
``reachability`` says when a customer cannot be answered at all; ``lanes`` keeps the rows that add
messages to one chat channel in arrival order.
"""
