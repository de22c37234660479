from tickets.tests.factories import MembershipFactory


def test_an_agent_logs_in_and_sees_the_home_page(page, live_server, login, screenshot, transactional_db):
    # given an agent of a queue
    user = MembershipFactory().user
    user.set_password("secret-pass-123")
    user.save()

    # when they log in through the form
    login(user.username, "secret-pass-123")

    # then the home page greets them and they can log out
    assert page.get_by_role("button", name="Log out").is_visible()
    screenshot("home")
