module normaldance.lab/pause

go 1.24
