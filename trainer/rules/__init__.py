"""Pure domain rules with the clock passed in: the live classroom, nicknames, profile keys and transfer codes, the host-key throttle, and spaced-repetition scheduling.

The store re-checks these rules inside its transactions, so they sit in the core below it."""
