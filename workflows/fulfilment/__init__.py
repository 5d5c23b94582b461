"""The fulfilment of a shipment, one workflow module per node kind; models/fulfilment.py holds the
contract the order relies on. Today every node kind runs the DC protocol (dc.py); the 3PL, dropship
and store protocols come as modules beside it, on the shared half in protocol.py."""
