"""What rota learns and how it chooses, pure and shared by the CLI, the runner and the simulator:
Beta posteriors and the one learning step (bandit), an arm's posterior under the config and change
detection (posteriors), the selection pipeline (policy), quota pacing (pacing)."""
