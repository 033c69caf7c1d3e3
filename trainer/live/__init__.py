"""A live class: the service the host and join pages call (create, open, answer, reveal, analytics) and its figures.

The pure classroom rules are core (:mod:`trainer.rules.classroom`); state lives in the store."""
