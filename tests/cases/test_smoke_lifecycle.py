from minsheng.cases.choices import CaseState


def test_a_case_reaches_every_state_through_the_services(cases):
    for state in CaseState.values:
        assert cases.make(state).state == state
