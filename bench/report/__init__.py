"""The run's figures: collected, checked, printed, and written into docs/performance.md."""
