"""The processes under test and their database: started, watched (CPU, memory), stopped."""
