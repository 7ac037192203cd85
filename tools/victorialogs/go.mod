module github.com/starmates/logshipd/tools/victorialogs

go 1.26.8
