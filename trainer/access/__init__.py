"""Who may open the instructor pages: the host key's grant, the transport check (HTTPS warning).

The throttle rule itself is core (:mod:`trainer.rules.throttle`) because the store enforces it."""
