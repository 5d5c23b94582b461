"""The restart policy of `omniroute dev` as pure decisions: backoff that doubles up to a cap, exit
statuses named by signal, and the dev command's help stating the policy it uses. The policy driving real
processes is tested in tests/integration/test_cli_supervisor.py."""

from __future__ import annotations

from omniroute.cli.app import dev
from omniroute.devstack.supervisor import RestartPolicy, describe_exit


def test_the_delay_doubles_with_each_crash_in_a_row_up_to_its_cap() -> None:
    policy = RestartPolicy(first_delay=0.5, factor=2.0, max_delay=30.0, max_restarts=5)

    assert [policy.delay(crashes) for crashes in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert not policy.gives_up(5) and policy.gives_up(6)


def test_an_exit_status_names_the_signal_that_killed_the_service() -> None:
    assert describe_exit(137) == "status 137 (SIGKILL)"
    assert describe_exit(-15) == "killed by SIGTERM"
    assert describe_exit(1) == "status 1"


def test_the_dev_command_help_states_the_restart_policy_it_uses() -> None:
    policy, text = RestartPolicy(), " ".join((dev.__doc__ or "").split())

    assert f"after a backoff ({policy.first_delay:g} s, doubling up to {policy.max_delay:g} s" in text
    assert f"resets after {policy.healthy_after:g} s of healthy running" in text
    assert f"crashes {policy.max_restarts + 1} times in a row" in text
