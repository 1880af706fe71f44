"""The scenario format: the model of a validated scenario, and the one guarded path that reads,
locates and validates a scenario file into it (:func:`harness.scenario.load.load_scenario`)."""
