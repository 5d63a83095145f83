"""The demo scenario and its simulated people, on a loopback sandbox."""
