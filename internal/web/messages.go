package web

// english is the English for every Chinese phrase the pages pass through tr.
var english = map[string]string{}
