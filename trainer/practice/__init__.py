"""Self-study practice: session summaries (and the page model of the Practice page)."""
