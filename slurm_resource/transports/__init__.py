"""Transports: ssh (paramiko), local (subprocess), embedded (no Slurm)."""
