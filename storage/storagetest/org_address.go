package storagetest

import "github.com/relais-fr/relais/mandates"

// orgAddress is the postal address of the organisations the suite
// creates: every new organisation needs one (mandates.RequirePostalAddress).
var orgAddress = mandates.Address{Street: "Maison France Services\n12 rue Servient", PostalCode: "69003", Locality: "Lyon", Country: "France"}
