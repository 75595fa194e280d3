module example.com/notely

go 1.22

require github.com/stripe/stripe-go/v78 v78.1.0
