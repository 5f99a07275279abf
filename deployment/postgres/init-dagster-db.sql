-- Dagster's instance storage lives in its own database beside the platform's.
CREATE DATABASE dagster OWNER emg;
