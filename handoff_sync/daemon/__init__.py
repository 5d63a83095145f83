"""The long-running process: scheduler, lease keeper, health, metrics, logging, signals."""
