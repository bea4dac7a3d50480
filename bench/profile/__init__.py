"""``python -m bench --profile``: py-spy samples the gunicorn workers under closed-loop
``$connect`` load; raw collapsed stacks, a flame graph and a summary of the top frames."""
