"""What may leave the process: secrets redacted, text made safe for terminals and CSV,
local files kept private."""
