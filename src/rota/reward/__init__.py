"""Grading a session: the graded reward (score), its settings, the LLM judge, the grader command, the digest the judge reads, and the delayed signals (followup)."""
