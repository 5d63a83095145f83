"""How the product reports what is wrong in a file an admin edits: problems with file:line,
YAML read with line numbers, pydantic errors put in words, files validated part by part
(so one broken key does not hide the problems of the rest)."""
