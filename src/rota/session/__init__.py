"""`rota run`, one session end to end: the decision's I/O shell, the workspace lock and fleet leases,
the category and prompt, running the harness, interpreting and grading what it did, recording it."""
