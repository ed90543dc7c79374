"""Quota as a pure model: states and blocks (state), limit hits to blocks (limits), the session
history (uses), and limits learnt from it (history). No I/O: probes live in rota.probes."""
