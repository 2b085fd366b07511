"""Taking the sliding window out of the app: animation frames, the export job, figures."""
