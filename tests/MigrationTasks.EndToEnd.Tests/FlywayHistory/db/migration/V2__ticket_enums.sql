CREATE TYPE app.ticket_status AS ENUM ('new', 'open', 'pending', 'solved', 'closed');

CREATE TYPE app.ticket_priority AS ENUM ('low', 'normal', 'high', 'urgent');

CREATE TYPE app.ticket_channel AS ENUM ('email', 'web', 'phone', 'chat');
