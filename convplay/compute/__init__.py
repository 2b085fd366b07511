"""Running the real PyTorch op: devices, dtypes, timing, safe checkpoint loading.  No Qt."""
