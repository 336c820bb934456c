"""content stamp: a number that changes with every write to the question or topic tables

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 21:00:00

Triggers bump it, so every writer counts (the web, the CLI, the grading service, SQL by
hand): a question page asks the database for this one number instead of re-reading the
reading order on every request (app/questions/queries.py).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLES = ('question', 'topic')
EVENTS = ('insert', 'update', 'delete')
BUMP = 'UPDATE content_stamp SET value = value + 1 WHERE id = 1'


def upgrade():
    op.create_table(
        'content_stamp',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_stamp')),
    )
    op.execute('INSERT INTO content_stamp (id, value) VALUES (1, 0)')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            'CREATE FUNCTION bump_content_stamp() RETURNS trigger LANGUAGE plpgsql AS '
            f'$$ BEGIN {BUMP}; RETURN NULL; END $$'
        )
        # Deferred to the commit: a transaction takes the stamp's row lock last, so two
        # writers of different questions never wait on each other in opposite orders.
        for table in TABLES:
            op.execute(
                f'CREATE CONSTRAINT TRIGGER content_stamp_{table} '
                f'AFTER INSERT OR UPDATE OR DELETE ON "{table}" DEFERRABLE INITIALLY DEFERRED '
                'FOR EACH ROW EXECUTE FUNCTION bump_content_stamp()'
            )
        return
    for table in TABLES:
        for event in EVENTS:
            op.execute(
                f'CREATE TRIGGER content_stamp_{table}_{event} AFTER {event.upper()} '
                f'ON "{table}" BEGIN {BUMP}; END'
            )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(f'DROP TRIGGER content_stamp_{table} ON "{table}"')
        op.execute('DROP FUNCTION bump_content_stamp()')
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f'DROP TRIGGER content_stamp_{table}_{event}')
    op.drop_table('content_stamp')
