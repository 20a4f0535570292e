"""Following an API list's cursor pages, as a client would."""


def walk(client, url: str) -> list[str]:
    """Follow next_cursor to the end; the ids of every page, in order."""
    ids, cursor = [], None
    while True:
        sep = "&" if "?" in url else "?"
        response = client.get(url + (f"{sep}cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids
