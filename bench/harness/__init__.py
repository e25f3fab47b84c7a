"""The benchmark driver: runs under the machine's python3, standard library only."""
