module normaldance.lab/echo

go 1.24
