"""What rota learns and how it chooses, pure and shared by the CLI, the runner and the simulator:
Beta posteriors and the learning step (bandit), the selection pipeline (policy), quota pacing."""
