"""Workflows: the order and return lifecycles. They import models and activity references only."""
